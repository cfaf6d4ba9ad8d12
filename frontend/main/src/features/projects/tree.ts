import type { ProjectFile } from '@taidon/contracts';

/** A folder or a file of a project's tree, as the panel draws it. */
export type TreeNode =
  | { kind: 'folder'; name: string; path: string; children: TreeNode[] }
  | { kind: 'file'; name: string; path: string; file: ProjectFile };

/**
 * The flat file list of `GET /files` as nested folders: folders before
 * files, each in name order (so `init/`, `seed/`, `test/` read in the order
 * a project's chain runs them).
 */
export function treeOf(files: readonly ProjectFile[]): TreeNode[] {
  const root: TreeNode[] = [];
  for (const file of files) {
    const segments = file.path.split('/');
    let level = root;
    for (let i = 0; i < segments.length - 1; i++) {
      const name = segments[i] ?? '';
      const path = segments.slice(0, i + 1).join('/');
      let folder = level.find(
        (n): n is Extract<TreeNode, { kind: 'folder' }> => n.kind === 'folder' && n.name === name,
      );
      if (!folder) {
        folder = { kind: 'folder', name, path, children: [] };
        level.push(folder);
      }
      level = folder.children;
    }
    level.push({ kind: 'file', name: segments[segments.length - 1] ?? file.path, path: file.path, file });
  }
  sortTree(root);
  return root;
}

function sortTree(nodes: TreeNode[]): void {
  nodes.sort((a, b) =>
    a.kind === b.kind ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.kind === 'folder' ? -1 : 1,
  );
  for (const node of nodes) if (node.kind === 'folder') sortTree(node.children);
}

import type { TreeNode } from './tree.js';

interface Props {
  nodes: TreeNode[];
  /** Paths of files with unsaved edits in a tab. */
  dirty: ReadonlySet<string>;
  /** The file of the shown tab. */
  activePath: string | undefined;
  onOpen(path: string): void;
}

/** A project's folders and files; a click opens the file in a tab (the tab holding it already, if any). */
export function FileTree({ nodes, dirty, activePath, onOpen }: Props) {
  return (
    <ul className="project-tree">
      {nodes.map((node) =>
        node.kind === 'folder' ? (
          <li key={node.path}>
            <details open>
              <summary>{node.name}/</summary>
              <FileTree nodes={node.children} dirty={dirty} activePath={activePath} onOpen={onOpen} />
            </details>
          </li>
        ) : (
          <li key={node.path}>
            <button
              type="button"
              data-testid="project-file"
              data-path={node.path}
              data-dirty={String(dirty.has(node.path))}
              aria-current={node.path === activePath ? 'true' : undefined}
              title={`${node.path} · ${node.file.sizeBytes} bytes`}
              onClick={() => onOpen(node.path)}
            >
              {node.name}
              {dirty.has(node.path) && (
                <span className="dirty-mark" title="unsaved changes">
                  {' '}
                  ●
                </span>
              )}
            </button>
          </li>
        ),
      )}
    </ul>
  );
}

import type { Commit, ProjectDiff } from '@taidon/contracts';
import { useEffect, useState } from 'react';
import { parsePatch } from './diff.js';
import type { ProjectsApi } from './projects-api.js';

interface Props {
  projects: ProjectsApi;
  projectId: string;
  /** The shown tab's file, for "this file" history. */
  filePath: string | undefined;
  /** Changes on every commit, so the list is read again. */
  revision: number;
  busy: boolean;
  onRestore(commit: string, path?: string): void;
}

/** The project's commits (or the shown file's), each with its diff from its parent and a restore. */
export function ProjectHistory({ projects, projectId, filePath, revision, busy, onRestore }: Props) {
  const [scope, setScope] = useState<'project' | 'file'>('project');
  const [commits, setCommits] = useState<Commit[] | null>(null);
  const [diff, setDiff] = useState<{ commit: string; diff: ProjectDiff } | null>(null);
  const path = scope === 'file' ? filePath : undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `revision` is the signal to read again
  useEffect(() => {
    let live = true;
    setCommits(null);
    projects.history(projectId, path).then(
      (h) => live && setCommits(h.commits),
      () => live && setCommits([]),
    );
    return () => {
      live = false;
    };
  }, [projects, projectId, path, revision]);

  const showDiff = async (commit: Commit) => {
    const parent = commit.parents[0];
    if (!parent) return;
    setDiff({ commit: commit.commit, diff: await projects.diff(projectId, parent, commit.commit) });
  };

  return (
    <div className="project-history" data-testid="project-history">
      <div className="row">
        <label>
          <input type="radio" checked={scope === 'project'} onChange={() => setScope('project')} /> project
        </label>
        <label>
          <input
            type="radio"
            checked={scope === 'file'}
            disabled={!filePath}
            onChange={() => setScope('file')}
            data-testid="history-scope-file"
          />{' '}
          {filePath ? filePath : 'a file (open one)'}
        </label>
      </div>
      {commits === null && <p className="muted">Reading history…</p>}
      <ul>
        {commits?.map((c) => (
          <li key={c.commit} data-testid="project-commit" data-commit={c.commit}>
            <code>{c.commit.slice(0, 8)}</code> {c.message.split('\n')[0]}
            <span className="muted"> · {new Date(c.at).toLocaleString()}</span>
            <div className="row">
              <button
                type="button"
                disabled={c.parents.length === 0}
                title={c.parents.length === 0 ? 'The first commit' : undefined}
                onClick={() => void showDiff(c)}
                data-testid="commit-diff"
              >
                Diff
              </button>
              <button
                type="button"
                disabled={busy}
                onClick={() => onRestore(c.commit, path)}
                data-testid="commit-restore"
                title={`Make ${path ?? 'the whole project'} as it was at this commit, as a new commit`}
              >
                Restore {path ? 'file' : 'all'}
              </button>
            </div>
            {diff?.commit === c.commit && <DiffView diff={diff.diff} onClose={() => setDiff(null)} />}
          </li>
        ))}
      </ul>
    </div>
  );
}

function DiffView({ diff, onClose }: { diff: ProjectDiff; onClose(): void }) {
  return (
    <div className="project-diff" data-testid="project-diff">
      <p className="muted">
        {diff.files.map((f) => `${f.status} ${f.path}`).join(' · ')}
        {diff.truncated && ' (cut: too long to show whole)'}{' '}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </p>
      {parsePatch(diff.patch).map((file) => (
        <pre key={file.path} title={`Changes to ${file.path}`} data-testid="diff-file" data-path={file.path}>
          {file.lines.map((line, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the lines of a patch have no identity but their place
            <div key={i} className={`diff-${line.kind}`}>
              {line.text || ' '}
            </div>
          ))}
        </pre>
      ))}
    </div>
  );
}

import { useMemo, useState } from 'react';
import './projects.css';
import { ConflictView } from './ConflictView.js';
import { FileTree } from './FileTree.js';
import { NewFileForm } from './NewFileForm.js';
import { ProjectHistory } from './ProjectHistory.js';
import { ProjectSync } from './ProjectSync.js';
import { TestResults } from './TestResults.js';
import { treeOf } from './tree.js';
import type { ProjectWorkspace } from './use-project-workspace.js';

/**
 * The project panel: the account's projects (create from a template, the
 * example in one click, delete), the selected one's files, save notices,
 * "Run on project state", tests, sync and history.
 */
export function ProjectPanel({ workspace }: { workspace: ProjectWorkspace }) {
  const { state, files, projectsApi, activeFile, runOnProject } = workspace;
  const [template, setTemplate] = useState('empty');
  const [name, setName] = useState('');
  const [conflictKey, setConflictKey] = useState(0);
  const project = state.selected;
  const nodes = useMemo(() => treeOf(state.tree?.files ?? []), [state.tree]);
  const dirtyPaths = useMemo(
    () =>
      new Set(
        [...files.dirty]
          .map((tabId) => files.bindings[tabId])
          .filter((b) => b && b.projectId === project?.id)
          .map((b) => b?.path ?? ''),
      ),
    [files.dirty, files.bindings, project?.id],
  );
  const notice = files.notice;
  const busy = state.busy !== null;

  return (
    <section className="panel project-panel" aria-label="Projects" data-testid="project-panel">
      <h2>Projects</h2>
      <div className="row">
        <select
          aria-label="Project"
          data-testid="project-select"
          value={project?.id ?? ''}
          onChange={(e) => state.select(e.currentTarget.value || null)}
        >
          <option value="">
            {state.list === null ? 'Loading…' : state.list.length === 0 ? 'No project yet' : 'Choose a project'}
          </option>
          {state.list?.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          data-testid="project-create-example"
          disabled={busy || !state.templates.includes('example')}
          onClick={() => void state.create('example')}
          title="A small schema with init/, seed/, test/ and a README"
        >
          New example
        </button>
        {project && (
          <button
            type="button"
            data-testid="project-delete"
            disabled={busy}
            onClick={() => window.confirm(`Delete ${project.name} and its history?`) && void state.remove(project)}
          >
            Delete
          </button>
        )}
      </div>
      <details>
        <summary>New project…</summary>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void state.create(template, name).then(() => setName(''));
          }}
        >
          <input
            aria-label="New project name"
            placeholder="name"
            value={name}
            maxLength={100}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <select aria-label="Template" value={template} onChange={(e) => setTemplate(e.currentTarget.value)}>
            {['empty', ...state.templates.filter((t) => t !== 'empty')].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <button type="submit" disabled={busy}>
            Create
          </button>
        </form>
      </details>
      {state.busy && (
        <p className="muted" data-testid="project-busy">
          <span className="spinner" aria-hidden="true" /> {state.busy}…
        </p>
      )}
      {state.message && (
        <p
          className={state.message.kind === 'error' ? 'run-error' : 'muted'}
          data-testid="project-message"
          data-kind={state.message.kind}
        >
          {state.message.text}
        </p>
      )}
      {project && (
        <>
          <FileTree
            nodes={nodes}
            dirty={dirtyPaths}
            activePath={activeFile?.projectId === project.id ? activeFile.path : undefined}
            onOpen={(path) => void files.open(project.id, path)}
          />
          <NewFileForm
            busy={busy}
            onCreate={async (path) => {
              const created = await state.createFile(project.id, path);
              if (created) await files.open(project.id, path);
              return created;
            }}
          />
          {notice && files.bindings[notice.tabId] && (
            <div
              className={notice.kind === 'saved' ? 'muted' : 'run-error'}
              data-testid="save-notice"
              data-kind={notice.kind}
            >
              {notice.text}
              {notice.kind === 'stale' && (
                <div className="row">
                  <button type="button" onClick={() => void files.reload(notice.tabId)} data-testid="save-take-theirs">
                    Load theirs (drop my edits)
                  </button>
                  <button
                    type="button"
                    onClick={() => void files.save(notice.tabId, true)}
                    data-testid="save-overwrite"
                  >
                    Save mine over it
                  </button>
                </div>
              )}
            </div>
          )}
          <div className="row">
            <button
              type="button"
              data-testid="project-save"
              disabled={!activeFile || files.saving}
              onClick={() => void files.save(workspace.activeTabId)}
              title="Ctrl/Cmd+S"
            >
              {files.saving ? 'Saving…' : 'Save'}
            </button>
            {activeFile?.projectId === project.id && (
              <button
                type="button"
                data-testid="file-delete"
                disabled={busy}
                onClick={() =>
                  window.confirm(`Delete ${activeFile.path}? (History keeps it.)`) &&
                  void state.deleteFile(project.id, activeFile.path, activeFile.version)
                }
              >
                Delete file
              </button>
            )}
            <button
              type="button"
              data-testid="project-run"
              onClick={() => runOnProject(project.id)}
              title="Runs the shown tab's head on the state the project's init/ and seed/ build"
            >
              Run on project state
            </button>
            <button
              type="button"
              data-testid="project-tests-run"
              disabled={state.tests?.status === 'running'}
              onClick={() => void state.runTests(project.id)}
            >
              Run tests
            </button>
          </div>
          {state.tests && <TestResults view={state.tests} />}
          <ProjectSync
            key={project.id}
            remoteUrl={state.remoteUrl}
            busy={busy}
            onSetRemote={(url, token) => void state.setRemote(project.id, url, token)}
            onPull={() => void state.pull(project.id)}
            onPush={() => void state.push(project.id)}
          />
          {state.merge && (
            <>
              <button type="button" data-testid="conflict-open" onClick={() => setConflictKey((k) => k + 1)}>
                Resolve the pull's conflicts ({state.merge.files.length})
              </button>
              <ConflictView
                key={conflictKey}
                merge={state.merge}
                busy={busy}
                onResolve={(choices) => void state.resolve(project.id, choices)}
                onAbort={() => void state.abortMerge(project.id)}
              />
            </>
          )}
          <details>
            <summary>History</summary>
            <ProjectHistory
              projects={projectsApi}
              projectId={project.id}
              filePath={activeFile?.projectId === project.id ? activeFile.path : undefined}
              revision={state.revision}
              busy={busy}
              onRestore={(commit, path) => void state.restore(project.id, commit, path)}
            />
          </details>
        </>
      )}
    </section>
  );
}

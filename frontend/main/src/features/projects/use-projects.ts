import type { PendingMerge, Project, ProjectTree } from '@taidon/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../../api/errors.js';
import { type ConflictChoice, resolutionsOf } from './conflict.js';
import { freeName } from './names.js';
import type { ProjectsApi } from './projects-api.js';
import { describePull, describePush, describeSyncError } from './sync-summary.js';
import { applyTestEvent, endTests, startingTests, type TestsView } from './test-results.js';

const SELECTED_KEY = 'taidon.project';

/** A line the panel shows after an action: what it did, or why it failed. */
export interface PanelMessage {
  kind: 'ok' | 'error';
  text: string;
}

const messageOf = (action: string, error: unknown): PanelMessage => ({
  kind: 'error',
  text: error instanceof ApiError ? describeSyncError(action, error) : `${action} failed: ${String(error)}`,
});

/**
 * The project panel's state: the account's projects, the one selected with
 * its tree and remote, sync (pull, push, a pending merge), and its tests.
 * `onTreeChanged` tells the open file tabs when a pull, merge or restore
 * changed files under them.
 */
export function useProjects(
  projects: ProjectsApi,
  accountId: string | undefined,
  onTreeChanged: (projectId: string, versions: ReadonlyMap<string, string>) => void,
  /** A project (no path) or one of its files was deleted. */
  onDeleted: (projectId: string, path?: string) => void,
) {
  const [list, setList] = useState<Project[] | null>(null);
  const [templates, setTemplates] = useState<string[]>([]);
  const [selectedId, setSelectedId] = useState<string | null>(() => localStorage.getItem(SELECTED_KEY));
  const [tree, setTree] = useState<ProjectTree | null>(null);
  const [remoteUrl, setRemoteUrl] = useState<string | null>(null);
  const [merge, setMerge] = useState<PendingMerge | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<PanelMessage | null>(null);
  const [tests, setTests] = useState<TestsView | null>(null);
  /** Bumped on every commit, so history views read again. */
  const [revision, setRevision] = useState(0);
  const changed = useRef(onTreeChanged);
  changed.current = onTreeChanged;
  const deleted = useRef(onDeleted);
  deleted.current = onDeleted;
  const selected = list?.find((p) => p.id === selectedId) ?? null;

  const reloadList = useCallback(async () => {
    const found = await projects.list();
    setList(found);
    return found;
  }, [projects]);
  useEffect(() => {
    if (!accountId) return;
    setList(null);
    void reloadList().catch((error: unknown) => setMessage(messageOf('Listing projects', error)));
    void projects.templates().then(setTemplates, () => setTemplates([]));
  }, [accountId, projects, reloadList]);
  useEffect(() => {
    if (selectedId) localStorage.setItem(SELECTED_KEY, selectedId);
    else localStorage.removeItem(SELECTED_KEY);
  }, [selectedId]);

  /** The project shown now: answers about another one (switched away from while they were on the way) are dropped. */
  const shown = useRef<string | undefined>(undefined);
  const reloadTree = useCallback(
    async (id: string, notify = false) => {
      const next = await projects.tree(id);
      if (shown.current !== id) return;
      setTree(next);
      setRevision((r) => r + 1);
      if (notify) changed.current(id, new Map(next.files.map((f) => [f.path, f.version])));
    },
    [projects],
  );
  const selectedKnown = selected?.id;
  shown.current = selectedKnown;
  useEffect(() => {
    setTree(null);
    setMerge(null);
    setTests(null);
    setRemoteUrl(null);
    if (!selectedKnown) return;
    const still = () => shown.current === selectedKnown;
    void reloadTree(selectedKnown).catch((error: unknown) => {
      if (still()) setMessage(messageOf('Reading files', error));
    });
    void projects.remote(selectedKnown).then(
      (r) => still() && setRemoteUrl(r?.url ?? null),
      () => still() && setRemoteUrl(null),
    );
    // A pull left waiting for its conflicts (in another visit) is shown again.
    void projects.pendingMerge(selectedKnown).then(
      (m) => still() && setMerge(m),
      () => still() && setMerge(null),
    );
  }, [selectedKnown, projects, reloadTree]);

  /** Runs one action with a busy label; its message, or its error's, is shown after. Answers whether it succeeded. */
  const act = async (label: string, action: () => Promise<string | undefined>): Promise<boolean> => {
    setBusy(label);
    setMessage(null);
    try {
      const text = await action();
      if (text) setMessage({ kind: 'ok', text });
      return true;
    } catch (error) {
      setMessage(messageOf(label, error));
      return false;
    } finally {
      setBusy(null);
    }
  };

  const create = (template: string, name?: string) =>
    act('Creating the project', async () => {
      const current = list ?? (await reloadList());
      const project = await projects.create({
        name:
          name?.trim() ||
          freeName(
            current.map((p) => p.name),
            template === 'empty' ? 'project' : template,
          ),
        template,
      });
      await reloadList();
      setSelectedId(project.id);
      return `Created ${project.name} from ${project.template}.`;
    });
  const remove = (project: Project) =>
    act('Deleting the project', async () => {
      await projects.remove(project.id);
      deleted.current(project.id);
      if (selectedId === project.id) setSelectedId(null);
      await reloadList();
      return `Deleted ${project.name}.`;
    });
  /** A new empty file, as a commit (`If-None-Match: *`: an existing file is never replaced). */
  const createFile = (id: string, path: string) =>
    act('Creating the file', async () => {
      const change = await projects.writeFile(id, path, '', null);
      await reloadTree(id);
      return `Created ${change.path} as ${change.commit.slice(0, 8)}.`;
    });
  const deleteFile = (id: string, path: string, version: string) =>
    act('Deleting the file', async () => {
      const change = await projects.deleteFile(id, path, version);
      deleted.current(id, path);
      await reloadTree(id);
      return `Deleted ${path} as ${change.commit.slice(0, 8)}.`;
    });
  const setRemote = (id: string, url: string, token: string) =>
    act('Setting the remote', async () => {
      const remote = await projects.setRemote(id, token ? { url, token } : { url });
      setRemoteUrl(remote.url);
      return `Remote set to ${remote.url} (branch ${remote.branch}${remote.hasToken ? ', token kept encrypted' : ''}).`;
    });
  const pull = (id: string) =>
    act('Pull', async () => {
      try {
        const result = await projects.pull(id);
        await reloadTree(id, true);
        return describePull(result);
      } catch (error) {
        if (error instanceof ApiError && error.code === 'VCS_SYNC_PULL_CONFLICT')
          setMerge(await projects.pendingMerge(id));
        throw error;
      }
    });
  const push = (id: string) => act('Push', async () => describePush(await projects.push(id)));
  const resolve = (id: string, choices: Readonly<Record<string, ConflictChoice>>) =>
    act('Resolving the merge', async () => {
      if (!merge) return undefined;
      const resolved = resolutionsOf(merge, choices);
      if ('missing' in resolved) throw new Error(`choose a side or write the text of ${resolved.missing.join(', ')}`);
      const result = await projects.resolveMerge(id, resolved.request);
      setMerge(null);
      await reloadTree(id, true);
      return describePull(result);
    });
  const abortMerge = (id: string) =>
    act('Aborting the merge', async () => {
      await projects.abortMerge(id);
      setMerge(null);
      return 'Merge aborted: the project is as it was before the pull.';
    });
  const restore = (id: string, commit: string, path?: string) =>
    act('Restoring', async () => {
      const result = await projects.restore(id, commit, path);
      await reloadTree(id, true);
      const what = path ?? 'the whole project';
      return result.changed
        ? `Restored ${what} as of ${commit.slice(0, 8)} (new commit ${result.commit.slice(0, 8)}).`
        : `${what} is already as of ${commit.slice(0, 8)}: nothing changed.`;
    });
  const runTests = async (id: string) => {
    let view = startingTests();
    setTests(view);
    try {
      for await (const event of projects.tests(id)) {
        // Another project shown meanwhile: its panel must not show these results (the stream ends with the loop).
        if (shown.current !== id) return;
        view = applyTestEvent(view, event);
        setTests(view);
      }
      if (shown.current === id) setTests(endTests(view));
    } catch (error) {
      if (shown.current !== id) return;
      setTests({
        ...view,
        status: 'error',
        error: { code: error instanceof ApiError ? error.code : 'NETWORK', message: String((error as Error).message) },
      });
    }
  };

  return {
    list,
    templates,
    selected,
    select: setSelectedId,
    tree,
    revision,
    remoteUrl,
    merge,
    busy,
    message,
    tests,
    create,
    remove,
    setRemote,
    createFile,
    deleteFile,
    pull,
    push,
    resolve,
    abortMerge,
    restore,
    runTests,
    /** A save committed: the tree's versions and the history are new. */
    committed: (id: string) => {
      // A failed read leaves the tree as it was; the next action reads it again and reports its own error.
      if (id === selectedKnown) void reloadTree(id).catch(() => undefined);
    },
  };
}

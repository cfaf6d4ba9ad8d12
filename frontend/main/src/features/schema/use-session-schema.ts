import type { SessionSchema } from '@taidon/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client.js';
import { setCompletionSchema } from '../../editor/completion.js';

const EMPTY: SessionSchema = { schemas: [], tables: [], truncated: false };

/**
 * The catalog of the session's instance, for the schema browser and
 * completion: read when the session changes and whenever `refresh` is called
 * (after a run that changed the schema). A later read wins over an earlier one.
 */
export function useSessionSchema(api: ApiClient, sessionId: string) {
  const [schema, setSchema] = useState<SessionSchema | null>(null);
  const [loading, setLoading] = useState(false);
  const latest = useRef(0);
  const refresh = useCallback(
    (id: string) => {
      const ticket = ++latest.current;
      setLoading(true);
      api.schema(id).then(
        (next) => {
          if (ticket !== latest.current) return;
          setSchema(next);
          setCompletionSchema(next);
          setLoading(false);
        },
        // A session with no instance yet, or a new anonymous account: the browser stays as it was.
        () => ticket === latest.current && setLoading(false),
      );
    },
    [api],
  );
  useEffect(() => {
    setSchema(EMPTY);
    setCompletionSchema(EMPTY);
    refresh(sessionId);
  }, [refresh, sessionId]);
  return { schema, loading, refresh };
}

import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { AuthState, AuthStore } from '../../api/auth.js';
import { ApiError } from '../../api/errors.js';
import { OperatorPage } from '../operator/OperatorPage.js';

type Action = 'signIn' | 'signUp' | 'upgrade';

/**
 * Sign in, sign up, upgrade of the anonymous account and sign out. Hidden
 * behind a disabled button where the platform has no identity endpoints.
 * Admins also find the operator page here.
 */
export function AccountMenu({ auth, state }: { auth: AuthStore; state: AuthState | null }) {
  const [available, setAvailable] = useState<boolean | null>(null);
  const [message, setMessage] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  const operatorDialog = useRef<HTMLDialogElement>(null);
  const [operatorOpen, setOperatorOpen] = useState(false);
  const anonymous = !state || state.role === 'anonymous';

  useEffect(() => {
    let live = true;
    void auth.accountsAvailable().then((ok) => live && setAvailable(ok));
    return () => {
      live = false;
    };
  }, [auth]);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const action = (submitter?.value ?? 'signIn') as Action;
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email') ?? '');
    const password = String(form.get('password') ?? '');
    try {
      await auth[action](email, password);
      setMessage('');
      dialog.current?.close();
    } catch (error) {
      setMessage(error instanceof ApiError ? error.message : 'The request failed.');
    }
  };

  return (
    <div className="account">
      <span className="muted" data-testid="account-role">
        {anonymous ? 'Anonymous' : 'Signed in'}
      </span>
      {state?.role === 'admin' && (
        <button
          type="button"
          data-testid="operator-button"
          onClick={() => {
            setOperatorOpen(true);
            operatorDialog.current?.showModal();
          }}
          aria-label="Operator overview: runs, cache, instances, layers, errors"
        >
          Operator
        </button>
      )}
      {anonymous ? (
        <button
          type="button"
          disabled={available !== true}
          title={available === false ? 'Accounts are not enabled on this platform' : undefined}
          onClick={() => dialog.current?.showModal()}
          aria-label="Sign in, sign up or keep your work in an account"
        >
          Account
        </button>
      ) : (
        <button type="button" onClick={() => void auth.signOut()} aria-label="Sign out">
          Sign out
        </button>
      )}
      {state?.role === 'admin' && (
        <dialog
          ref={operatorDialog}
          className="operator-dialog"
          aria-label="Operator overview"
          onClose={() => setOperatorOpen(false)}
        >
          <OperatorPage auth={auth} open={operatorOpen} onClose={() => operatorDialog.current?.close()} />
        </dialog>
      )}
      <dialog ref={dialog} aria-label="Account">
        <form onSubmit={(e) => void submit(e)}>
          <h2>Account</h2>
          <label>
            Email <input name="email" type="email" autoComplete="email" required />
          </label>
          <label>
            Password <input name="password" type="password" autoComplete="current-password" required minLength={8} />
          </label>
          {message && <p role="alert">{message}</p>}
          <div className="row">
            <button type="submit" value="signIn">
              Sign in
            </button>
            <button type="submit" value="signUp">
              Sign up
            </button>
            <button type="submit" value="upgrade" title="Keep this anonymous account's work under this email">
              Upgrade this account
            </button>
            <button type="button" onClick={() => dialog.current?.close()}>
              Close
            </button>
          </div>
        </form>
      </dialog>
    </div>
  );
}

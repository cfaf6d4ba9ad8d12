import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react';
import type { AuthState, AuthStore } from '../../api/auth.js';
import { ApiError } from '../../api/errors.js';
import { OperatorPage } from '../operator/OperatorPage.js';

type Action = 'signIn' | 'signUp' | 'upgrade';

/**
 * Sign in, sign up, upgrade of the anonymous account and sign out. Hidden
 * behind a disabled button where the platform has no identity endpoints.
 * A signed-in account's items (sign out; for admins the operator page) sit in
 * a menu behind one button, so the top bar stays one line at 1280 px.
 */
export function AccountMenu({ auth, state }: { auth: AuthStore; state: AuthState | null }) {
  const [available, setAvailable] = useState<boolean | null>(null);
  const [message, setMessage] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  const operatorDialog = useRef<HTMLDialogElement>(null);
  const [operatorOpen, setOperatorOpen] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const anonymous = !state || state.role === 'anonymous';

  useEffect(() => {
    let live = true;
    void auth.accountsAvailable().then((ok) => live && setAvailable(ok));
    return () => {
      live = false;
    };
  }, [auth]);

  // The menu closes on a click elsewhere; its first item takes the focus as it opens.
  useEffect(() => {
    if (!menuOpen) return;
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const onDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !menuButton.current?.contains(target)) setMenuOpen(false);
    };
    document.addEventListener('pointerdown', onDown);
    return () => document.removeEventListener('pointerdown', onDown);
  }, [menuOpen]);
  const onMenuKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (event.key === 'Escape') {
      event.preventDefault();
      setMenuOpen(false);
      menuButton.current?.focus();
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      items[(at + step + items.length) % items.length]?.focus();
    }
  };

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
      {anonymous && (
        <span className="muted" data-testid="account-role">
          Anonymous
        </span>
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
        <div className="account-menu">
          <button
            ref={menuButton}
            type="button"
            aria-haspopup="menu"
            aria-expanded={menuOpen}
            aria-controls={menuOpen ? 'account-menu-items' : undefined}
            data-testid="account-menu-button"
            onClick={() => setMenuOpen((open) => !open)}
          >
            <span data-testid="account-role">Signed in</span> ▾
          </button>
          {menuOpen && (
            <div
              ref={menu}
              id="account-menu-items"
              className="account-menu-items"
              role="menu"
              aria-label="Account"
              onKeyDown={onMenuKey}
            >
              {state?.role === 'admin' && (
                <button
                  type="button"
                  role="menuitem"
                  data-testid="operator-button"
                  onClick={() => {
                    setMenuOpen(false);
                    setOperatorOpen(true);
                    operatorDialog.current?.showModal();
                  }}
                  aria-label="Operator overview: runs, cache, instances, layers, errors"
                >
                  Operator
                </button>
              )}
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  setMenuOpen(false);
                  void auth.signOut();
                }}
              >
                Sign out
              </button>
            </div>
          )}
        </div>
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

import type { Account, CreateAccountRequest, UpgradeAccountRequest } from '@taidon/contracts';
import { callService, type ServiceEndpoint } from '@taidon/kit';

/**
 * user-profile as idp sees it: the source of accounts and roles. idp keeps no
 * role of its own, so every token it signs carries the role user-profile
 * reports at that moment.
 */
export interface AccountsClient {
  create(request: CreateAccountRequest, requestId?: string): Promise<Account>;
  get(accountId: string, requestId?: string): Promise<Account>;
  upgrade(accountId: string, request: UpgradeAccountRequest, requestId?: string): Promise<Account>;
}

/** An AccountsClient over user-profile's service API (service token, real HTTP). */
export function createAccountsClient(endpoint: ServiceEndpoint): AccountsClient {
  const opts = (requestId: string | undefined) => (requestId ? { requestId } : {});
  return {
    create: (request, requestId) => callService<Account>(endpoint, '/accounts', { body: request, ...opts(requestId) }),
    get: (accountId, requestId) =>
      callService<Account>(endpoint, `/accounts/${encodeURIComponent(accountId)}`, opts(requestId)),
    upgrade: (accountId, request, requestId) =>
      callService<Account>(endpoint, `/accounts/${encodeURIComponent(accountId)}/upgrade`, {
        body: request,
        ...opts(requestId),
      }),
  };
}

import { ACCOUNT_ERROR_CODES, type Quotas, type RoleQuotas } from '@taidon/contracts';
import { callService, DomainError, type ServiceEndpoint } from '@taidon/kit';

/** Where vcs-sync reads an account's storage quota. */
export interface QuotaSource {
  /** The account's `storageBytes`: its own quotas, or its role's defaults when user-profile does not know it. */
  storageBytes(accountId: string, role: string | undefined): Promise<number>;
}

/** user-profile's internal routes (`/accounts/:id/quotas`, `/roles/quotas`) through kit's client. */
export function userProfileQuotas(endpoint: ServiceEndpoint): QuotaSource {
  return {
    async storageBytes(accountId, role) {
      try {
        const quotas = await callService<Quotas>(endpoint, `/accounts/${encodeURIComponent(accountId)}/quotas`);
        return quotas.storageBytes;
      } catch (error) {
        if (!(error instanceof DomainError) || error.code !== ACCOUNT_ERROR_CODES.accountNotFound) throw error;
      }
      // As sql-runner does for accounts user-profile does not know: the token role's defaults, anonymous at worst.
      const defaults = await callService<RoleQuotas>(endpoint, '/roles/quotas');
      const known = role && role in defaults ? (role as keyof RoleQuotas) : 'anonymous';
      return defaults[known].storageBytes;
    },
  };
}

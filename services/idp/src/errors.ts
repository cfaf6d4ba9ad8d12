import { KIT_ERROR_CODES } from '@taidon/kit';

/** Every code idp answers with; each is documented in services/idp/README.md (checked by a test). */
export const IDP_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
};

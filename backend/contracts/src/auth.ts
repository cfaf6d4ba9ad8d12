import { type Static, Type } from 'typebox';

/** Answer of every sign-in route: a short-lived bearer token for `/api/*`. */
export const AccessTokenResponse = Type.Object(
  {
    accessToken: Type.String({ description: 'JWT signed by idp (EdDSA); send as `Authorization: Bearer …`.' }),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'Seconds until the token expires.' }),
  },
  { additionalProperties: false },
);
export type AccessTokenResponse = Static<typeof AccessTokenResponse>;

/** Claims idp puts in every access token and the gateway relies on. */
export interface AccessTokenClaims {
  /** Account id (UUID). */
  sub: string;
  role: 'anonymous' | 'learner' | 'instructor' | 'admin';
  iss: string;
  aud: string;
  iat: number;
  exp: number;
}

/** Body of sign-up, sign-in and upgrade with email and password. */
export const PasswordCredentials = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' }),
    password: Type.String({ minLength: 8, maxLength: 1024, description: 'At least 8 characters; never logged.' }),
  },
  { additionalProperties: false },
);
export type PasswordCredentials = Static<typeof PasswordCredentials>;

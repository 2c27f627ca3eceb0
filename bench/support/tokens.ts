/**
 * Access tokens signed by the bench itself with the service's secret, exactly as the service
 * signs them (`src/auth/AccessTokens.ts`): logging a thousand accounts in through the API would
 * measure the login path and trip its rate limits, and is not what a bench of other routes is for.
 */
import { SignJWT } from "jose"
import { webcrypto } from "node:crypto"

const issuer = "mitra-availability"

export type TokenKind = "mitra" | "customer"

/**
 * A signer for `secret`. Tokens live 2 h by their `exp`; the service still caps their age at its
 * `ACCESS_TOKEN_TTL_SECONDS` (15 min by default), longer than any bench run.
 */
export const tokenSigner = async (secret: string) => {
  const key = await webcrypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
  return (kind: TokenKind, subjectId: string) =>
    new SignJWT({ kind })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(issuer)
      .setSubject(subjectId)
      .setIssuedAt()
      .setExpirationTime("2h")
      .sign(key)
}

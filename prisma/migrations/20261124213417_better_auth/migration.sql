-- Accounts move to better-auth's model. Data is carried over: verified emails
-- stay verified, password hashes (argon2) move to "credential" accounts, OAuth
-- identities keep their provider ids. Sessions cannot be carried (only hashes of
-- the old tokens were stored): everyone signs in again once.

-- User: emailVerified becomes better-auth's boolean; passwordHash moves to Account.
ALTER TABLE "User"
  ADD COLUMN "image" TEXT,
  ADD COLUMN "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  ALTER COLUMN "emailVerified" DROP DEFAULT,
  ALTER COLUMN "emailVerified" TYPE BOOLEAN USING ("emailVerified" IS NOT NULL),
  ALTER COLUMN "emailVerified" SET DEFAULT false,
  ALTER COLUMN "emailVerified" SET NOT NULL;

-- Account: better-auth's column names, plus the credential password.
DROP INDEX "Account_provider_providerAccountId_key";
ALTER TABLE "Account" RENAME COLUMN "provider" TO "providerId";
ALTER TABLE "Account" RENAME COLUMN "providerAccountId" TO "accountId";
ALTER TABLE "Account" DROP COLUMN "email",
  ADD COLUMN "accessToken" TEXT,
  ADD COLUMN "accessTokenExpiresAt" TIMESTAMP(3),
  ADD COLUMN "idToken" TEXT,
  ADD COLUMN "password" TEXT,
  ADD COLUMN "refreshToken" TEXT,
  ADD COLUMN "refreshTokenExpiresAt" TIMESTAMP(3),
  ADD COLUMN "scope" TEXT,
  ADD COLUMN "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
CREATE UNIQUE INDEX "Account_providerId_accountId_key" ON "Account"("providerId", "accountId");

INSERT INTO "Account" ("id", "providerId", "accountId", "userId", "password", "createdAt", "updatedAt")
SELECT gen_random_uuid(), 'credential', "id"::text, "id", "passwordHash", "createdAt", CURRENT_TIMESTAMP
FROM "User" WHERE "passwordHash" IS NOT NULL;
ALTER TABLE "User" DROP COLUMN "passwordHash";

-- Session: better-auth stores the token and signs the cookie.
DELETE FROM "Session";
DROP INDEX "Session_tokenHash_key";
ALTER TABLE "Session" DROP COLUMN "tokenHash",
  ADD COLUMN "ipAddress" TEXT,
  ADD COLUMN "token" TEXT NOT NULL,
  ADD COLUMN "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  ADD COLUMN "userAgent" TEXT;
CREATE UNIQUE INDEX "Session_token_key" ON "Session"("token");

-- Verification: better-auth's short-lived values (OAuth state).
CREATE TABLE "Verification" (
    "id" UUID NOT NULL,
    "identifier" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Verification_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Verification_identifier_idx" ON "Verification"("identifier");

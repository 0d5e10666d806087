-- CreateEnum
CREATE TYPE "PurchaseStatus" AS ENUM ('processing', 'paid', 'failed');

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "operator" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Workspace" ADD COLUMN     "monthlySpendLimit" INTEGER;

-- CreateTable
CREATE TABLE "Purchase" (
    "id" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "checkoutSessionId" TEXT NOT NULL,
    "paymentIntentId" TEXT,
    "chargeId" TEXT,
    "packId" TEXT,
    "credits" INTEGER NOT NULL,
    "amountTotal" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "status" "PurchaseStatus" NOT NULL,
    "failureMessage" TEXT,
    "receiptUrl" TEXT,
    "creditsRefunded" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Purchase_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditLog" (
    "id" UUID NOT NULL,
    "actorUserId" UUID NOT NULL,
    "actorEmail" TEXT NOT NULL,
    "workspaceId" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "amount" INTEGER,
    "reason" TEXT NOT NULL,
    "creditEntryId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Purchase_checkoutSessionId_key" ON "Purchase"("checkoutSessionId");

-- CreateIndex
CREATE UNIQUE INDEX "Purchase_paymentIntentId_key" ON "Purchase"("paymentIntentId");

-- CreateIndex
CREATE INDEX "Purchase_workspaceId_createdAt_idx" ON "Purchase"("workspaceId", "createdAt");

-- CreateIndex
CREATE INDEX "AuditLog_workspaceId_createdAt_idx" ON "AuditLog"("workspaceId", "createdAt");

-- CreateIndex
CREATE INDEX "AuditLog_createdAt_idx" ON "AuditLog"("createdAt");

-- AddForeignKey
ALTER TABLE "Purchase" ADD CONSTRAINT "Purchase_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuditLog" ADD CONSTRAINT "AuditLog_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written (accounts part 3). A Stripe refund may leave a workspace in debt,
-- so the balance itself may now be negative; what must never happen is that
-- spending overdraws. Every entry records the balance it left (read under the
-- row lock in the same transaction), so the rule moves onto the ledger: an entry
-- that takes credits away leaves a non-negative balance, unless it is a refund
-- or an operator adjustment.
ALTER TABLE "Workspace" DROP CONSTRAINT "Workspace_creditBalance_nonnegative";
ALTER TABLE "CreditEntry" ADD CONSTRAINT "CreditEntry_spend_never_overdraws"
  CHECK ("amount" >= 0 OR "kind" IN ('refund', 'adjustment') OR "balanceAfter" >= 0);
ALTER TABLE "Workspace" ADD CONSTRAINT "Workspace_monthlySpendLimit_nonnegative"
  CHECK ("monthlySpendLimit" IS NULL OR "monthlySpendLimit" >= 0);

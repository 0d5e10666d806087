-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "cancelRequestedAt" TIMESTAMP(3),
ADD COLUMN     "previewKey" TEXT,
ADD COLUMN     "previewStep" INTEGER,
ADD COLUMN     "promptTruncated" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "Image" ADD COLUMN     "thumbnailKey" TEXT;

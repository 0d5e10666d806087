-- AlterTable
ALTER TABLE "Workspace" ADD COLUMN     "jobsInFlight" INTEGER NOT NULL DEFAULT 0;

-- developer API: "jobsInFlight" follows every Job insert, status change and
-- delete, whichever code path makes it, so admission reads one locked row
-- instead of counting the workspace's jobs.
UPDATE "Workspace" w SET "jobsInFlight" = (
  SELECT count(*) FROM "Job" j WHERE j."workspaceId" = w."id" AND j."status" IN ('queued', 'running'));

CREATE OR REPLACE FUNCTION lucid_jobs_in_flight() RETURNS trigger AS $$
DECLARE
  was_in_flight boolean := false;
  is_in_flight boolean := false;
BEGIN
  IF TG_OP <> 'INSERT' THEN was_in_flight := OLD."status" IN ('queued', 'running'); END IF;
  IF TG_OP <> 'DELETE' THEN is_in_flight := NEW."status" IN ('queued', 'running'); END IF;
  IF was_in_flight AND NOT is_in_flight THEN
    UPDATE "Workspace" SET "jobsInFlight" = "jobsInFlight" - 1 WHERE "id" = OLD."workspaceId";
  ELSIF is_in_flight AND NOT was_in_flight THEN
    UPDATE "Workspace" SET "jobsInFlight" = "jobsInFlight" + 1 WHERE "id" = NEW."workspaceId";
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "Job_jobs_in_flight"
  AFTER INSERT OR DELETE OR UPDATE OF "status" ON "Job"
  FOR EACH ROW EXECUTE FUNCTION lucid_jobs_in_flight();

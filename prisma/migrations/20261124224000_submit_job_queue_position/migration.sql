-- Hand-written (issue 5, submit throughput). lucid_submit_job, unchanged in
-- signature, now also answers an accepted job's queue position (in `detail`),
-- so the submit answer needs no second round trip to count the queue.
CREATE OR REPLACE FUNCTION lucid_submit_job(
  p_job_id uuid,
  p_workspace_id uuid,
  p_created_by_id uuid,
  p_api_key_id uuid,
  p_source "JobSource",
  p_request jsonb,
  p_model text,
  p_cost integer,
  p_progress_total integer,
  p_reason text,
  -- plan name -> jobs queued or running at most; a plan not named gets p_default_max_in_flight
  p_max_in_flight jsonb,
  p_default_max_in_flight integer,
  -- first instant of the current calendar month, UTC (spend limit, key cap)
  p_month_start timestamp(3)
) RETURNS TABLE (outcome text, detail jsonb, job "Job") AS $$
DECLARE
  ws record;
  max_in_flight integer;
  key_cap integer;
  key_name text;
  used integer;
  spent integer;
  balance_after integer;
  stamp timestamp(3);
  created "Job";
  ahead integer;
BEGIN
  SELECT w."plan", w."jobsInFlight", w."creditBalance", w."monthlySpendLimit" INTO ws
    FROM "Workspace" w WHERE w."id" = p_workspace_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'workspace_not_found'::text, NULL::jsonb, NULL::"Job";
    RETURN;
  END IF;

  max_in_flight := COALESCE((p_max_in_flight ->> ws."plan")::integer, p_default_max_in_flight);
  IF ws."jobsInFlight" >= max_in_flight THEN
    RETURN QUERY SELECT 'too_many_in_flight_jobs'::text,
      jsonb_build_object('inFlight', ws."jobsInFlight", 'maxInFlight', max_in_flight), NULL::"Job";
    RETURN;
  END IF;

  IF p_api_key_id IS NOT NULL THEN
    SELECT k."monthlyCreditCap", k."name" INTO key_cap, key_name FROM "ApiKey" k WHERE k."id" = p_api_key_id;
    IF key_cap IS NOT NULL THEN
      SELECT COALESCE(SUM(j."creditsReserved"), 0) - COALESCE(SUM(j."creditsReleased"), 0) INTO used
        FROM "Job" j WHERE j."apiKeyId" = p_api_key_id AND j."createdAt" >= p_month_start;
      IF used + p_cost > key_cap THEN
        RETURN QUERY SELECT 'key_credit_cap_exceeded'::text,
          jsonb_build_object('cap', key_cap, 'used', used, 'keyName', key_name), NULL::"Job";
        RETURN;
      END IF;
    END IF;
  END IF;

  IF ws."creditBalance" < p_cost THEN
    RETURN QUERY SELECT 'insufficient_credits'::text, jsonb_build_object('balance', ws."creditBalance"), NULL::"Job";
    RETURN;
  END IF;

  IF ws."monthlySpendLimit" IS NOT NULL THEN
    -- Reservations minus releases this month (a capture moves nothing).
    SELECT GREATEST(0, -COALESCE(SUM(e."amount"), 0)) INTO spent
      FROM "CreditEntry" e
      WHERE e."workspaceId" = p_workspace_id AND e."kind" IN ('reserve', 'release') AND e."createdAt" >= p_month_start;
    IF spent + p_cost > ws."monthlySpendLimit" THEN
      RETURN QUERY SELECT 'spend_limit_reached'::text,
        jsonb_build_object('limit', ws."monthlySpendLimit", 'spent', spent), NULL::"Job";
      RETURN;
    END IF;
  END IF;

  -- The conditional debit, backed by the CHECK "CreditEntry_spend_never_overdraws".
  UPDATE "Workspace" SET "creditBalance" = "creditBalance" - p_cost
    WHERE "id" = p_workspace_id AND "creditBalance" >= p_cost
    RETURNING "creditBalance" INTO balance_after;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'insufficient_credits'::text, jsonb_build_object('balance', ws."creditBalance"), NULL::"Job";
    RETURN;
  END IF;

  -- Stored like Prisma stores DateTime: UTC without a zone. The clock after the
  -- lock, so a workspace's jobs are ordered as they were admitted.
  stamp := clock_timestamp() AT TIME ZONE 'UTC';
  INSERT INTO "CreditEntry" ("id", "workspaceId", "kind", "amount", "jobId", "externalRef", "reason", "balanceAfter", "createdAt")
    VALUES (gen_random_uuid(), p_workspace_id, 'reserve', -p_cost, p_job_id, 'job:' || p_job_id || ':reserve', p_reason, balance_after, stamp);
  INSERT INTO "Job" ("id", "workspaceId", "createdById", "apiKeyId", "source", "request", "model",
                     "creditsReserved", "progressTotal", "createdAt", "updatedAt")
    VALUES (p_job_id, p_workspace_id, p_created_by_id, p_api_key_id, p_source, p_request, p_model,
            p_cost, p_progress_total, stamp, stamp)
    RETURNING * INTO created;
  -- Its place in the platform-wide queue, in the same round trip: queued jobs
  -- created before it, counted up to 1000 (QUEUE_POSITION_CAP in
  -- @lucid/contracts; jobs.ts queuePosition counts the same way).
  SELECT count(*)::integer INTO ahead FROM (
    SELECT 1 FROM "Job" j
    WHERE j."status" = 'queued' AND (j."createdAt" < stamp OR (j."createdAt" = stamp AND j."id" < p_job_id))
    LIMIT 1000) AS q;
  RETURN QUERY SELECT 'accepted'::text, jsonb_build_object('queuePosition', ahead), created;
END
$$ LANGUAGE plpgsql;

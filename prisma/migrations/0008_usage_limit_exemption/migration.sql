-- A user can be exempted from the default usage limit (issue #14): their own row with a NULL
-- limit means "no limit". The default row (user_id NULL) always carries a number; the service
-- refuses "unlimited" without a user, and this check keeps it so for any other writer.
ALTER TABLE "usage_limits" ALTER COLUMN "limit_micros" DROP NOT NULL;
ALTER TABLE "usage_limits" ADD CONSTRAINT "usage_limits_default_has_limit"
  CHECK ("user_id" IS NOT NULL OR "limit_micros" IS NOT NULL);

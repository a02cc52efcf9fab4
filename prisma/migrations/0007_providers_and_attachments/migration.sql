-- Per-model-config generation options (issue #10): output cap, Anthropic thinking budget,
-- reasoning effort and temperature. Null keeps the provider's default, so existing configs
-- behave as before.
CREATE TYPE "ReasoningEffort" AS ENUM ('LOW', 'MEDIUM', 'HIGH');

ALTER TABLE "model_configs"
  ADD COLUMN "max_output_tokens" INTEGER,
  ADD COLUMN "thinking_budget_tokens" INTEGER,
  ADD COLUMN "reasoning_effort" "ReasoningEffort",
  ADD COLUMN "temperature" DOUBLE PRECISION;

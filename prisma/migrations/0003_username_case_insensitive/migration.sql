-- Usernames are unique regardless of case (issue #8): `ADMIN` beside `admin` is one user
-- pretending to be another. Names keep the case they were created with. Prisma cannot express
-- an index on an expression; prisma/schema.prisma notes it on the field, and the schema-sync
-- test checks that this index exists.
CREATE UNIQUE INDEX "users_username_lower_key" ON "users" (lower("username"));

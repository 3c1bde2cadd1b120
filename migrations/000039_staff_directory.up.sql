-- The staff directory (issue 18): who may work in Passage, by the pseudonymous staff id a
-- token's sub carries, with the mission and role the directory knows them by, and whether
-- they are active. Every service process keeps all of it in memory (internal/staffdir) and
-- refuses an inactive member's calls; intake refuses to assign a case to someone who is not an
-- active member of the mission. It holds no personal data but display_name, the member's own
-- name for team lists, which only intake's role may read (a column grant) and which never
-- reaches logs, audit records, events or errors.
CREATE TABLE intake.staff_member (
  staff_id       text PRIMARY KEY CHECK (length(staff_id) BETWEEN 1 AND 128),
  -- The member's id as an aggregate (audit records, idempotency, events): the name-based UUID
  -- (version 5) of staff_id, so that anyone who knows the staff id computes it.
  member_id      uuid NOT NULL UNIQUE,
  mission        text NOT NULL CHECK (length(mission) BETWEEN 2 AND 32),
  role           text NOT NULL CHECK (role IN ('caseworker', 'supervisor', 'programme_manager', 'analyst', 'admin')),
  active         boolean NOT NULL,
  -- How the member came to be in the directory: from their own token's claims at their first
  -- call (claims), or by an administrator ahead of it (admin).
  provisioned_by text NOT NULL CHECK (provisioned_by IN ('claims', 'admin')),
  display_name   text CHECK (length(display_name) BETWEEN 1 AND 200),
  version        bigint NOT NULL CHECK (version > 0),
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  -- Written at most once a day per member, by the process that admits their call.
  last_seen_at   timestamptz,
  deactivated_at timestamptz,
  CHECK (active = (deactivated_at IS NULL))
);
-- A team: a mission's members by role.
CREATE INDEX staff_member_mission ON intake.staff_member (mission, role, staff_id);

-- Every change of who is active, in which mission, with which role, is announced to every
-- process in the same transaction (NOTIFY is delivered at commit, and only then): the payload
-- is the row's new state, ids and codes only, so a listener applies it without a query. A
-- last-seen touch changes none of these and announces nothing.
CREATE FUNCTION intake.staff_member_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('passage_staff', json_build_object('staff_id', NEW.staff_id, 'mission', NEW.mission,
    'role', NEW.role, 'active', NEW.active, 'provisioned_by', NEW.provisioned_by, 'version', NEW.version)::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER staff_member_inserted AFTER INSERT ON intake.staff_member
  FOR EACH ROW EXECUTE FUNCTION intake.staff_member_notify();
CREATE TRIGGER staff_member_changed AFTER UPDATE ON intake.staff_member
  FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version)
  EXECUTE FUNCTION intake.staff_member_notify();

ALTER TABLE intake.staff_member ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- Every service role reads every member's id, mission, role and state: each process admits
-- or refuses every call against the whole directory, whatever the mission, and must see a
-- deactivation in any mission. Ids and codes only: display_name is not granted to them.
-- Intake's role reads every column of every row: its StaffService lists a supervisor's team
-- and an administrator's any mission, and filters by the caller's mission itself (a directory
-- entry says who works where, not what they work on).
CREATE POLICY directory_read_by_every_service ON intake.staff_member FOR SELECT
  TO passage_intake, passage_returns, passage_trafficking, passage_hasm, passage_referral,
     passage_followup, passage_handover, passage_analytics
  USING (true);

-- Sign-in from claims (PASSAGE_STAFF_DIRECTORY=claims): any service process admits the first
-- call of a staff member it does not know by adding them as the token says. A service role
-- may add only that: an active member provisioned from claims, at version 1, without a name.
-- It can neither add someone inactive nor name anyone, and (no UPDATE of active granted) never
-- deactivate nor reactivate: the token the row repeats already proves as much.
CREATE POLICY sign_in_adds_self_from_claims ON intake.staff_member FOR INSERT
  TO passage_intake, passage_returns, passage_trafficking, passage_hasm, passage_referral,
     passage_followup, passage_handover, passage_analytics
  WITH CHECK (provisioned_by = 'claims' AND active AND version = 1 AND display_name IS NULL);

-- A member's token moving with the identity provider (claims mode: a claims-provisioned,
-- active member whose token names another mission or role) is followed by the process that
-- admits it, and every process admits a call by touching last_seen_at: only rows that stay
-- active and provisioned from claims, and only those columns (the grants below).
CREATE POLICY sign_in_follows_claims ON intake.staff_member FOR UPDATE
  TO passage_returns, passage_trafficking, passage_hasm, passage_referral,
     passage_followup, passage_handover, passage_analytics
  USING (active AND provisioned_by = 'claims')
  WITH CHECK (active AND provisioned_by = 'claims');

-- Intake's role administers the directory: provisioning ahead of sign-in, deactivation and
-- reactivation (StaffService, administrators only, audited), besides signing in.
CREATE POLICY intake_provisions_members ON intake.staff_member FOR INSERT TO passage_intake
  WITH CHECK (true);
CREATE POLICY intake_administers_members ON intake.staff_member FOR UPDATE TO passage_intake
  USING (true) WITH CHECK (true);

GRANT SELECT (staff_id, mission, role, active, provisioned_by, version, last_seen_at) ON intake.staff_member
  TO passage_returns, passage_trafficking, passage_hasm, passage_referral, passage_followup, passage_handover, passage_analytics;
GRANT INSERT (staff_id, member_id, mission, role, active, provisioned_by, version, created_at, updated_at, last_seen_at) ON intake.staff_member
  TO passage_returns, passage_trafficking, passage_hasm, passage_referral, passage_followup, passage_handover, passage_analytics;
GRANT UPDATE (mission, role, version, updated_at, last_seen_at) ON intake.staff_member
  TO passage_returns, passage_trafficking, passage_hasm, passage_referral, passage_followup, passage_handover, passage_analytics;
GRANT SELECT, INSERT, UPDATE ON intake.staff_member TO passage_intake;
GRANT USAGE ON SCHEMA intake
  TO passage_returns, passage_trafficking, passage_hasm, passage_referral, passage_followup, passage_handover, passage_analytics;

DROP TABLE intake.staff_member;
DROP FUNCTION intake.staff_member_notify();

-- Matching filters active tutors by subject and level overlap (`subjects && $1 and levels && $2`): GIN indexes
-- keep that a lookup instead of a scan over every tutor.
create index tutors_subjects_gin on tutors using gin (subjects) where active;
create index tutors_levels_gin on tutors using gin (levels) where active;

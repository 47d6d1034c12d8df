"""Progress, final-assignment grades and the completion rule (automatic pass AND assessor pass).

* :mod:`grading.evidence` — what a pull knows about one learner (plain data);
* :mod:`grading.rule` — the completion rule of one run, every reason, the grader check;
* :mod:`grading.year` — the year result (at least N modules; exempt apart);
* :mod:`grading.targets` — completion and survey rates against the plan's targets.

All pure. The pull from the LMS, the write-back and the lists come next (issue 9).
"""

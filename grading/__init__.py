"""Progress, final-assignment grades and the completion rule (automatic pass AND assessor pass).

Pure:

* :mod:`grading.evidence` — what a pull knows about one learner (plain data);
* :mod:`grading.rule` — the completion rule of one run, every reason, the grader check;
* :mod:`grading.year` — the year result (at least N modules; exempt apart) and its list;
* :mod:`grading.targets` — completion and survey rates against the plan's targets;
* :mod:`grading.lists`, :mod:`grading.deadlines` — the completion lists, reporters' deadlines.

Use cases and adapters: :mod:`grading.pull` (reads the LMS), :mod:`grading.service` (a
pull, decided and stored), :mod:`grading.writeback` (completion written to the LMS,
journaled), :mod:`grading.publish` (lists and year results as files),
:mod:`grading.closing` (closing a run, once).
"""

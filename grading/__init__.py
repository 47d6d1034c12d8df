"""Progress, final-assignment grades and the completion rule (automatic pass AND assessor pass).

Not built yet; the roadmap is in the project's issues.
"""

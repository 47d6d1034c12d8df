"""The daemon: scheduled provisioning and the jobs of each module run's 7 / 2 / 7 calendar.

Not built yet; the roadmap is in the project's issues.
"""

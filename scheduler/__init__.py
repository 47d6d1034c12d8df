"""The run calendar and, later, the daemon that follows it.

Every date rule lives here: :mod:`scheduler.schedule` gives a run's days (7 online, 2 virtual
class, 7 online, then grading); :mod:`scheduler.timeline` the same as instants in the site's
time zone, with the key instants the daemon acts on; :mod:`scheduler.validation` refuses
configured runs that cannot work. Pure: time is passed in.
"""

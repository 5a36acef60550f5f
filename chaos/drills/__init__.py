"""On-call drills: a markdown runbook narrated step by step against a real target, then judged.

A drill is a scenario an operator can watch: the runbook (``runbooks/*.md``)
says what is happening and what to look at, its ``chaos`` blocks start the
workload and the faults, and at the end the same checkers as the scenarios
judge the recorded history. ``runbook`` parses, ``workloads`` is the registry
of the background loads (``params``, ``context``, ``workload``, ``invoicing``,
``sales``, ``observing``, ``mixed``), ``preflight`` refuses a drill the target
cannot have, ``engine`` runs a drill, ``verdict`` judges it, ``cli`` is
``chaos drill``. Every call goes through the target's profile.
"""

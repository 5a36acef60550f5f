"""On-call drills: a markdown runbook narrated step by step against a real cluster, then judged.

A drill is a scenario an operator can watch: the runbook (``runbooks/*.md``)
says what is happening and what to look at, its ``chaos`` blocks start the
workload and the faults, and at the end the same checkers as the scenarios
judge the recorded history. ``runbook`` parses, ``workloads`` drives the load,
``engine`` runs a drill, ``cli`` is ``chaos drill``.
"""

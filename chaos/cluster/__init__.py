"""The stack's containers driven through the Docker SDK: create, wire, scale, fault, remove.

``controller.Cluster`` (life cycle, where things are) composes ``ownership``
(labels, reaping, local engine only), ``wiring`` (instances, links, ports,
scaling), ``process_faults`` and ``readiness`` (shared with ``chaos.compose``).
``running.RunningTarget`` is an already-running target behind our fault proxy
(``proxy_process``), its processes ``running_process.RunningProcess``.
``capabilities`` names what either can do for the nemesis.
"""

"""Periodic jobs: which job runs how often (``periodic.PERIODIC``), and the scheduler
(``manage.py schedule_jobs``) that enqueues each once per period slot on the job runner
(django-tasks; workers: ``manage.py db_worker``). The scheduler only enqueues."""

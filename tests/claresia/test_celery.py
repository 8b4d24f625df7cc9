from claresia import celery_app


def test_without_a_broker_tasks_run_in_process(settings):
    # then: the suite runs with CELERY_BROKER_URL unset, as the zero-setup demo does
    assert settings.CELERY_BROKER_URL is None
    assert celery_app.conf.task_always_eager is True

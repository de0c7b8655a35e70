"""The operator and the job image are built and shipped apart; the names they share must agree."""

from cronflow.children import cronjob
from cronflow.children import watcher as watcher_build
from cronflow_job import config as job_config
from cronflow_job import headers, watch


def test_watcher_environment_names_agree() -> None:
    for name in ("DIR_ENV", "PATTERN_ENV", "POLL_SECONDS_ENV", "MAX_PARALLEL_ENV", "TOKEN_ENV", "PORT_ENV"):
        assert getattr(watcher_build, name) == getattr(watch, name), name
    assert watcher_build.PORT == watch.DEFAULT_PORT


def test_run_environment_names_agree() -> None:
    for name in ("FLOW_ENV", "AUTH_TOKEN_ENV", "INPUT_FILE_ENV", "INPUT_PATH_ENV"):
        assert getattr(cronjob, name) == getattr(job_config, name), name
    assert cronjob.HEADER_ENV_PREFIX == headers.SECRET_HEADER_PREFIX

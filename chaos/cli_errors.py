"""Every `chaos` command's errors: one line on stderr and a non-zero exit, never a traceback.

The people running these commands are on call; "Docker is not running" or
"no link api_9->redis" must be the whole answer, with what to do next. A
bug is still a traceback: only the errors listed here are expected ones.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from docker.errors import DockerException
from requests import RequestException

from chaos.drills.runbook import RunbookError
from chaos.load import LoadError
from chaos.nemesis.grammar import GrammarError
from chaos.provision.errors import ProvisionError
from chaos.target.admin import AdminError
from chaos.target.errors import ProfileError
from chaos.toxiproxy.client import ToxiproxyError


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ProvisionError, GrammarError, LoadError, RunbookError) as exc:  # ClusterError is a ProvisionError
            raise click.ClickException(str(exc)) from None
        except ProfileError as exc:  # every problem of the file, on one line
            raise click.ClickException("; ".join(str(exc).splitlines())) from None
        except AdminError as exc:
            raise click.ClickException(f"no admin token: {exc}") from None
        except ToxiproxyError as exc:
            raise click.ClickException(f"the fault proxy refused: {exc}; `chaos status` lists the links") from None
        except DockerException as exc:
            raise click.ClickException(f"the Docker engine did not answer ({str(exc).splitlines()[0][:160]}); "
                                       "run `chaos provision` (as root it starts one)") from None
        except RequestException as exc:
            raise click.ClickException(f"the stack did not answer ({type(exc).__name__}); "
                                       "is it up? try `chaos status`") from None
    return run

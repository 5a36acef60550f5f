# The README's two commands. Both provision what they need and reuse it.
.PHONY: chaos up test bootstrap down

chaos: bootstrap
	.venv/bin/chaos run --api 5 --workers 3

up: bootstrap
	.venv/bin/chaos up --api 5 --workers 3

test: bootstrap
	.venv/bin/pytest --junitxml=reports/junit.xml

bootstrap:
	@scripts/bootstrap.sh

down:
	.venv/bin/chaos down

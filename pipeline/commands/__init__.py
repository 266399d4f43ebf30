"""The commands: the command line (cli, arguments), what it prints (terminal, progress), what it
checks before a run (preflight) and the sweep. The top floor: nothing in pipeline/ imports it."""

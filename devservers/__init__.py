"""Throwaway database servers for the test suite and the benchmarks.

PostgreSQL (:mod:`devservers.postgres`) and MariaDB (:mod:`devservers.mariadb`) are started from
the machine's Debian packages in temporary folders, on free loopback ports
(:mod:`devservers.net`), and stopped when their block ends. Not part of the flexorm package.
"""

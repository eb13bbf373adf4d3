"""The ordered column-type tables: model description fields and action parameter fields."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite

from flexorm.actions.params.fields import ParamField, param_field
from flexorm.protocol.durations import Duration
from flexorm.reflection import field_types
from flexorm.reflection.records import ColumnInfo, ForeignKeyInfo
from flexorm.reflection.typemap import MySQLTime, base_type, db_internal_type, is_known_type


def column(type_: Any, **changes: Any) -> ColumnInfo:
    return ColumnInfo("c", type_, nullable=True, primary_key=False, autoincrement=False,
                      **changes)


@pytest.mark.parametrize(("type_", "expected"), [
    # Enum is a String: it must win
    (sa.Enum("a", "b"), ("SelectField", "SelectField")),
    (postgresql.ENUM("a", name="mood"), ("SelectField", "SelectField")),
    (sa.Text(), ("TextField", "TextField")),
    (sa.UnicodeText(), ("TextField", "TextField")),
    (sa.CLOB(), ("TextField", "TextField")),
    (sa.String(10), ("CharField", "CharField")),
    (sa.Unicode(), ("CharField", "CharField")),
    (sa.CHAR(2), ("CharField", "CharField")),
    (sa.Boolean(), ("BooleanField", "BooleanField")),
    (sa.BigInteger(), ("IntegerField", "BigIntegerField")),
    (sa.SmallInteger(), ("IntegerField", "SmallIntegerField")),
    (sa.Integer(), ("IntegerField", "IntegerField")),
    (mysql.TINYINT(), ("IntegerField", "IntegerField")),
    # Float before Numeric; Double before Float
    (sa.Float(), ("FloatField", "FloatField")),
    (sa.REAL(), ("FloatField", "FloatField")),
    (sa.Double(), ("FloatField", "DoublePrecisionField")),
    (postgresql.DOUBLE_PRECISION(), ("FloatField", "DoublePrecisionField")),
    (sa.DECIMAL(10, 2), ("FloatField", "DecimalField")),
    (sa.Numeric(), ("FloatField", "NumberField")),
    (sa.Date(), ("DateField", "DateField")),
    (postgresql.TIMESTAMP(timezone=True), ("DateTimeField", "TimestampField")),
    (sa.DateTime(), ("DateTimeField", "DateTimeField")),
    (sqlite.DATETIME(), ("DateTimeField", "DateTimeField")),
    (sa.JSON(), ("JSONField", "JSONField")),
    (postgresql.JSONB(), ("JSONField", "JSONField")),
    (postgresql.ARRAY(sa.Integer()), ("JSONField", "JSONField")),
    (sa.Uuid(), ("UUIDField", "UUIDField")),
    (postgresql.UUID(), ("UUIDField", "UUIDField")),
    (sa.LargeBinary(), ("BinaryField", "BinaryField")),
    (postgresql.BYTEA(), ("BinaryField", "BinaryField")),
    (sa.VARBINARY(8), ("BinaryField", "BinaryField")),
    # dialect types outside SQLAlchemy's generic hierarchy
    (mysql.TINYTEXT(), ("TextField", "TextField")),
    (mysql.MEDIUMTEXT(), ("TextField", "TextField")),
    (mysql.LONGTEXT(), ("TextField", "TextField")),
    (mysql.SET("a", "b"), ("CharField", "CharField")),
    (mysql.TINYBLOB(), ("BinaryField", "BinaryField")),
    (mysql.LONGBLOB(), ("BinaryField", "BinaryField")),
    (oracle.RAW(16), ("BinaryField", "BinaryField")),
    (mssql.NTEXT(), ("TextField", "TextField")),
    # Oracle's NUMBER is Integer and Numeric: a scale makes it a decimal
    (oracle.NUMBER(10, 2), ("FloatField", "NumberField")),
    (oracle.NUMBER(10), ("IntegerField", "IntegerField")),
    # anything else degrades to CharField
    (sa.Time(), ("CharField", "CharField")),
    (sa.Interval(), ("CharField", "CharField")),
    (sa.types.NullType(), ("CharField", "CharField")),
    (postgresql.TSVECTOR(), ("CharField", "CharField")),
    (postgresql.MONEY(), ("CharField", "CharField")),
    # wrappers map as what they wrap
    (postgresql.DOMAIN("posint", sa.Integer()), ("IntegerField", "IntegerField")),
])
def test_field_types_first_match_wins(type_: Any, expected: tuple[str, str]) -> None:
    assert field_types(column(type_)) == expected


def test_field_types_of_a_type_decorator_is_its_impl() -> None:
    class Cents(sa.TypeDecorator[int]):
        impl = sa.BigInteger
        cache_ok = True

    assert field_types(column(Cents())) == ("IntegerField", "BigIntegerField")
    assert is_known_type(Cents())


def test_foreign_key_and_options_change_field_but_not_db_field() -> None:
    fk = ForeignKeyInfo("fk", ("c",), "accounts", ("id",), True)
    assert field_types(column(sa.BigInteger(), foreign_key=fk)) == ("ForeignKey",
                                                                     "BigIntegerField")
    assert field_types(column(sa.String(5), options=("a", "b"))) == ("SelectField", "CharField")


def test_python_type_is_never_consulted() -> None:
    class Weird(sa.types.UserDefinedType[Any]):
        cache_ok = True

        @property
        def python_type(self) -> type:
            raise NotImplementedError

    assert field_types(column(Weird())) == ("CharField", "CharField")
    assert param_field(column(Weird())).python_type is str


def test_db_internal_type_never_raises() -> None:
    assert db_internal_type(sa.types.NullType()) == "NULL"
    assert db_internal_type(postgresql.ENUM("a", name="mood"), "postgresql") == "mood"
    assert db_internal_type(sa.Enum("a", "b")) == "VARCHAR(1)"
    assert db_internal_type(sa.String(3), "no_such_dialect") == "VARCHAR(3)"

    class Broken(sa.types.UserDefinedType[Any]):
        cache_ok = True

        def get_col_spec(self) -> str:
            raise RuntimeError("cannot render")

    assert db_internal_type(Broken(), "sqlite") == "Broken"


@pytest.mark.parametrize(("type_", "jet", "python_type"), [
    (sa.Text(), "TextField", str),
    (sa.String(5), "CharField", str),
    (sa.Boolean(), "BooleanField", bool),
    (sa.BigInteger(), "IntegerField", int),
    (sa.Float(), "FloatField", float),
    (sa.Numeric(), "DecimalField", decimal.Decimal),
    (sa.Date(), "DateField", datetime.date),
    (sa.TIMESTAMP(), "TimestampField", datetime.datetime),
    (sa.DateTime(), "DateTimeField", datetime.datetime),
    (sa.Time(), "TimeField", datetime.time),
    (sa.Interval(), "CharField", datetime.timedelta),
    (postgresql.JSONB(), "JSONField", Any),
    (sa.Uuid(), "CharField", uuid.UUID),
    (sa.LargeBinary(), "CharField", bytes),
    (postgresql.TSVECTOR(), "CharField", str),
    (mysql.LONGTEXT(), "TextField", str),
    (mysql.MEDIUMBLOB(), "CharField", bytes),
    (oracle.NUMBER(10, 2), "DecimalField", decimal.Decimal),
    (oracle.NUMBER(10), "IntegerField", int),
])
def test_param_field_types(type_: Any, jet: str, python_type: Any) -> None:
    result = param_field(column(type_))
    assert (result.field, result.python_type) == (jet, python_type)
    assert result.options is None
    assert result.related_model is None


def test_param_field_decimal_precision() -> None:
    assert param_field(column(sa.Numeric(10, 2))).params == {"precision": 10, "scale": 2}
    assert param_field(column(sa.Numeric())).params == {}


def test_param_field_select_from_options_and_enum() -> None:
    checked = param_field(column(sa.String(10), options=("new", "old")))
    assert checked == ParamField("SelectField", {"options": [
        {"value": "new", "name": "new"}, {"value": "old", "name": "old"}]}, str, ("new", "old"))

    class Color(enum.Enum):
        RED = "red"

    assert param_field(column(sa.Enum("x", "y"))).options == ("x", "y")
    assert param_field(column(sa.Enum(Color), options=("red",))).options == ("red",)


def test_param_field_foreign_key() -> None:
    fk = ForeignKeyInfo("fk", ("c",), "other.accounts", ("id",), True)
    result = param_field(column(sa.BigInteger(), foreign_key=fk))
    assert result == ParamField("ForeignKey", {"related_model": {"model": "other.accounts"}},
                                int, None, "other.accounts")


def test_a_reflected_mysql_time_reads_and_writes_durations() -> None:
    """SQLAlchemy's MySQL TIME reads the driver's timedelta as a time of day, dropping days and
    sign; the reflected type keeps the duration, and writes one as its text, whatever the
    driver makes of a negative timedelta."""
    dialect = mysql.dialect()
    as_sqlalchemy_reads = mysql.TIME().result_processor(dialect, None)
    assert as_sqlalchemy_reads is not None
    assert as_sqlalchemy_reads(datetime.timedelta(hours=100)) == datetime.time(4)
    impl = MySQLTime(fsp=3).dialect_impl(dialect)
    read, write = impl.result_processor(dialect, None), impl.bind_processor(dialect)
    assert read is not None
    assert write is not None
    for driver_value in (datetime.timedelta(hours=100), datetime.timedelta(hours=-1)):
        assert (read(driver_value), type(read(driver_value))) == (driver_value, Duration)
    assert read(None) is None
    assert write(datetime.timedelta(minutes=-30)) == "-00:30:00"
    assert write(datetime.timedelta(hours=100, microseconds=5)) == "100:00:00.000005"
    assert [write(v) for v in ("10:00", datetime.time(10), None)] == ["10:00",
                                                                    datetime.time(10), None]


def test_a_reflected_mysql_time_is_described_as_the_dialects_time() -> None:
    for type_, rendered in ((MySQLTime(), "TIME"), (MySQLTime(fsp=3), "TIME(3)")):
        assert type(base_type(type_)) is mysql.TIME
        assert db_internal_type(type_, "mysql") == rendered
        assert field_types(column(type_)) == ("CharField", "CharField")
        assert (param_field(column(type_)).field,
                param_field(column(type_)).python_type) == ("CharField", datetime.timedelta)

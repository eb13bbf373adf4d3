"""Actions a developer would write on the sample databases, one ``Flex`` per sample.

They are what the tests drive through the HTTP endpoint: a bulk action with column parameters,
per-record actions on quoted CamelCase tables, ForeignKey parameters, an enum select, string
and composite keys, a partitioned table, views.
"""

# flex.model("...") values are parameter types: flexorm reads them at runtime, mypy cannot.
# mypy: disable-error-code="valid-type,attr-defined"

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flexorm import ActionContext, ActionError, Flex

__all__ = ["TOKEN", "chinook", "northwind_postgresql", "northwind_sqlite", "pagila"]

TOKEN = "sample-key-0123456789"


def chinook(url: str) -> Flex:
    """Chinook: the same CamelCase collection names on SQLite and PostgreSQL."""
    flex = Flex(url, token=TOKEN)
    artist_ref = flex.model("Artist")

    @flex.action(model="Track", for_instance=True, bulk=True, fields=["UnitPrice"])
    def reprice(tracks: list[Any], **values: Any) -> dict[str, str]:
        """Set the price of the selected tracks."""
        for track in tracks:
            track.UnitPrice = values["UnitPrice"]
        return {str(track.TrackId): track.UnitPrice for track in tracks}

    @flex.action(model="Album", for_instance=True)
    def retitle(album: Any, title: str) -> Any:
        """Rename one album; answers the row."""
        if not title.strip():
            raise ActionError("a title cannot be blank")
        album.Title = title
        return album

    @flex.action(model="Album", for_instance=True, bulk=True)
    def move_to_artist(albums: list[Any], artist: artist_ref) -> dict[str, Any]:
        """Credit the selected albums to another artist (a ForeignKey parameter)."""
        for album in albums:
            album.ArtistId = artist.ArtistId
        return {"artist": artist.Name, "albums": [album.AlbumId for album in albums]}

    return flex


def pagila(url: str) -> Flex:
    """Pagila (PostgreSQL only)."""
    flex = Flex(url, token=TOKEN)

    @flex.action(model="film", for_instance=True, bulk=True, fields=["rating"])
    def rerate(films: list[Any], **values: Any) -> dict[str, Any]:
        """Set the MPAA rating of the selected films (the enum's labels as a select)."""
        for film in films:
            film.rating = values["rating"]
        return {film.title: film.rating for film in films}

    @flex.action(model="film", for_instance=True, bulk=True,
                 fields=["special_features", "release_year"])
    def set_features(films: list[Any], **values: Any) -> list[Any]:
        """Set a text[] column and a DOMAIN-typed column."""
        for film in films:
            for column, value in values.items():
                if value is not None:
                    setattr(film, column, value)
        return [[film.special_features, film.release_year] for film in films]

    @flex.action(model="payment", for_instance=True, bulk=True, writes=False)
    def total(payments: list[Any]) -> dict[str, Any]:
        """Count and sum the selected payments (rows of every partition)."""
        return {"count": len(payments),
                "amount": sum((p.amount for p in payments), Decimal("0")),
                "ids": sorted(p.payment_id for p in payments)}

    @flex.action(model=["customer_list", "staff_list_simple", "rental_by_category"],
                 for_instance=True)
    def show(row: Any) -> Any:
        """Read a row of a view (changes nothing)."""
        return row

    @flex.action(model="customer_list", for_instance=True)
    def rename_listed(row: Any, name: str) -> Any:
        """Change a row of a view that joins four tables (PostgreSQL cannot update it)."""
        row.name = name
        return row

    @flex.action(model="staff_list_simple", for_instance=True)
    def set_email(row: Any, email: str) -> Any:
        """Change a row of a simple view (PostgreSQL updates it through to staff)."""
        row.email = email
        return row

    @flex.action(model="rental_by_category", for_instance=True)
    def zero_sales(row: Any, ctx: ActionContext) -> Any:
        """Change a row of a materialized view (never updatable)."""
        row.total_sales = 0
        return row

    return flex


def _northwind(flex: Flex, *, customers: str, order_details: str, employees: str,
               key: dict[str, str]) -> Flex:
    """The actions both Northwind flavours share; ``key`` maps a logical column name to the
    flavour's (``contact_name`` -> ``ContactName``)."""
    employee_ref = flex.model(employees)

    @flex.action(model=customers, for_instance=True)
    def set_contact(customer: Any, contact: str) -> dict[str, Any]:
        """Change one customer's contact (a character key: "ALFKI")."""
        setattr(customer, key["contact_name"], contact)
        return {"id": getattr(customer, key["customer_id"]), "contact": contact}

    @flex.action(model=order_details, for_instance=True, bulk=True)
    def discount(lines: list[Any], percent: int) -> list[list[Any]]:
        """Discount the selected order lines (a composite key)."""
        if not 0 <= percent <= 100:
            raise ActionError("percent must be between 0 and 100")
        for line in lines:
            setattr(line, key["discount"], percent / 100)
        return sorted([getattr(line, key["order_id"]), getattr(line, key["product_id"])]
                      for line in lines)

    @flex.action(model=employees, for_instance=True, bulk=True)
    def report_to(staff: list[Any], manager: employee_ref) -> int:
        """Make the selected employees report to one manager (a self-reference)."""
        manager_id = getattr(manager, key["employee_id"])
        for employee in staff:
            if getattr(employee, key["employee_id"]) == manager_id:
                raise ActionError("an employee cannot report to themself")
            setattr(employee, key["reports_to"], manager_id)
        return len(staff)

    return flex


def northwind_sqlite(url: str) -> Flex:
    """Northwind on SQLite: CamelCase, and a table whose name holds a space."""
    flex = Flex(url, token=TOKEN)

    @flex.action(model="Current Product List", for_instance=True)
    def rename_listed(row: Any, name: str) -> Any:
        """Change a row of a view (SQLite updates a view only through INSTEAD OF triggers)."""
        row.ProductName = name
        return row

    return _northwind(flex, customers="Customers", order_details="Order Details",
                      employees="Employees", key={
                          "contact_name": "ContactName", "customer_id": "CustomerID",
                          "discount": "Discount", "order_id": "OrderID",
                          "product_id": "ProductID", "employee_id": "EmployeeID",
                          "reports_to": "ReportsTo"})


def northwind_postgresql(url: str) -> Flex:
    """Northwind on PostgreSQL: snake_case, character keys, a table without a primary key."""
    flex = Flex(url, token=TOKEN)

    @flex.action(model="us_states", for_instance=True, bulk=True)
    def rename_region(states: list[Any], region: str) -> list[str]:
        """Change a table without a primary key (its first column stands in)."""
        for state in states:
            state.state_region = region
        return sorted(state.state_abbr for state in states)

    return _northwind(flex, customers="customers", order_details="order_details",
                      employees="employees", key={
                          "contact_name": "contact_name", "customer_id": "customer_id",
                          "discount": "discount", "order_id": "order_id",
                          "product_id": "product_id", "employee_id": "employee_id",
                          "reports_to": "reports_to"})

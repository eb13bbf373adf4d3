/*
   Northwind, SQLite flavour (after jpwhite3/northwind-SQLite3), a subset.

   Kept as the original writes it: bracket-quoted CamelCase names, a table and views
   whose names hold spaces ([Order Details], [Alphabetical list of products]), TEXT
   keys ([Customers].[CustomerID] is a nullable TEXT primary key, as SQLite allows),
   INTEGER PRIMARY KEY AUTOINCREMENT elsewhere, BLOB pictures, NUMERIC and REAL money,
   CHECK constraints that are not value lists, [Order Details]' composite key, and
   [Employees].[ReportsTo] referencing [Employees].
*/

CREATE TABLE [Categories]
(      [CategoryID] INTEGER PRIMARY KEY AUTOINCREMENT,
       [CategoryName] TEXT,
       [Description] TEXT,
       [Picture] BLOB
);

CREATE TABLE [CustomerDemographics](
   [CustomerTypeID] TEXT NOT NULL,
   [CustomerDesc] TEXT,
    PRIMARY KEY ("CustomerTypeID")
);

CREATE TABLE [Customers]
(      [CustomerID] TEXT,
       [CompanyName] TEXT,
       [ContactName] TEXT,
       [ContactTitle] TEXT,
       [Address] TEXT,
       [City] TEXT,
       [Region] TEXT,
       [PostalCode] TEXT,
       [Country] TEXT,
       [Phone] TEXT,
       [Fax] TEXT,
       PRIMARY KEY (`CustomerID`)
);

CREATE TABLE [CustomerCustomerDemo](
   [CustomerID] TEXT NOT NULL,
   [CustomerTypeID] TEXT NOT NULL,
   PRIMARY KEY ("CustomerID","CustomerTypeID"),
   FOREIGN KEY ([CustomerID]) REFERENCES [Customers] ([CustomerID])
		ON DELETE NO ACTION ON UPDATE NO ACTION,
	FOREIGN KEY ([CustomerTypeID]) REFERENCES [CustomerDemographics] ([CustomerTypeID])
		ON DELETE NO ACTION ON UPDATE NO ACTION
);

CREATE TABLE [Employees]
(      [EmployeeID] INTEGER PRIMARY KEY AUTOINCREMENT,
       [LastName] TEXT,
       [FirstName] TEXT,
       [Title] TEXT,
       [TitleOfCourtesy] TEXT,
       [BirthDate] DATE,
       [HireDate] DATE,
       [Address] TEXT,
       [City] TEXT,
       [Region] TEXT,
       [PostalCode] TEXT,
       [Country] TEXT,
       [HomePhone] TEXT,
       [Extension] TEXT,
       [Photo] BLOB,
       [Notes] TEXT,
       [ReportsTo] INTEGER,
       [PhotoPath] TEXT,
	FOREIGN KEY ([ReportsTo]) REFERENCES [Employees] ([EmployeeID])
		ON DELETE NO ACTION ON UPDATE NO ACTION
);

CREATE TABLE [Shippers](
   [ShipperID] INTEGER PRIMARY KEY AUTOINCREMENT,
   [CompanyName] TEXT NOT NULL,
   [Phone] TEXT
);

CREATE TABLE [Suppliers](
   [SupplierID] INTEGER PRIMARY KEY AUTOINCREMENT,
   [CompanyName] TEXT NOT NULL,
   [ContactName] TEXT,
   [ContactTitle] TEXT,
   [Address] TEXT,
   [City] TEXT,
   [Region] TEXT,
   [PostalCode] TEXT,
   [Country] TEXT,
   [Phone] TEXT,
   [Fax] TEXT,
   [HomePage] TEXT
);

CREATE TABLE [Products](
   [ProductID] INTEGER PRIMARY KEY AUTOINCREMENT,
   [ProductName] TEXT NOT NULL,
   [SupplierID] INTEGER,
   [CategoryID] INTEGER,
   [QuantityPerUnit] TEXT,
   [UnitPrice] NUMERIC DEFAULT 0,
   [UnitsInStock] INTEGER DEFAULT 0,
   [UnitsOnOrder] INTEGER DEFAULT 0,
   [ReorderLevel] INTEGER DEFAULT 0,
   [Discontinued] TEXT NOT NULL DEFAULT '0',
    CHECK ([UnitPrice]>=(0)),
    CHECK ([ReorderLevel]>=(0)),
    CHECK ([UnitsInStock]>=(0)),
    CHECK ([UnitsOnOrder]>=(0)),
	FOREIGN KEY ([CategoryID]) REFERENCES [Categories] ([CategoryID])
		ON DELETE NO ACTION ON UPDATE NO ACTION,
	FOREIGN KEY ([SupplierID]) REFERENCES [Suppliers] ([SupplierID])
		ON DELETE NO ACTION ON UPDATE NO ACTION
);

CREATE TABLE [Orders](
   [OrderID] INTEGER PRIMARY KEY AUTOINCREMENT,
   [CustomerID] TEXT,
   [EmployeeID] INTEGER,
   [OrderDate] DATETIME,
   [RequiredDate] DATETIME,
   [ShippedDate] DATETIME,
   [ShipVia] INTEGER,
   [Freight] NUMERIC DEFAULT 0,
   [ShipName] TEXT,
   [ShipAddress] TEXT,
   [ShipCity] TEXT,
   [ShipRegion] TEXT,
   [ShipPostalCode] TEXT,
   [ShipCountry] TEXT,
   FOREIGN KEY ([EmployeeID]) REFERENCES [Employees] ([EmployeeID])
		ON DELETE NO ACTION ON UPDATE NO ACTION,
	FOREIGN KEY ([CustomerID]) REFERENCES [Customers] ([CustomerID])
		ON DELETE NO ACTION ON UPDATE NO ACTION,
	FOREIGN KEY ([ShipVia]) REFERENCES [Shippers] ([ShipperID])
		ON DELETE NO ACTION ON UPDATE NO ACTION
);

CREATE TABLE [Order Details](
   [OrderID] INTEGER NOT NULL,
   [ProductID] INTEGER NOT NULL,
   [UnitPrice] NUMERIC NOT NULL DEFAULT 0,
   [Quantity] INTEGER NOT NULL DEFAULT 1,
   [Discount] REAL NOT NULL DEFAULT 0,
    PRIMARY KEY ("OrderID","ProductID"),
    CHECK ([Discount]>=(0) and [Discount]<=(1)),
    CHECK ([Quantity]>(0)),
    CHECK ([UnitPrice]>=(0)),
	FOREIGN KEY ([OrderID]) REFERENCES [Orders] ([OrderID])
		ON DELETE NO ACTION ON UPDATE NO ACTION,
	FOREIGN KEY ([ProductID]) REFERENCES [Products] ([ProductID])
		ON DELETE NO ACTION ON UPDATE NO ACTION
);

CREATE VIEW [Alphabetical list of products]
AS
SELECT Products.*,
       Categories.CategoryName
FROM Categories
   INNER JOIN Products ON Categories.CategoryID = Products.CategoryID
WHERE (((Products.Discontinued)=0));

CREATE VIEW [Current Product List]
AS
SELECT ProductID,
       ProductName
FROM Products
WHERE Discontinued=0;

CREATE VIEW [Order Subtotals] AS
SELECT [Order Details].OrderID,
Sum((([Order Details].UnitPrice*Quantity*(1-Discount))/100)*100) AS Subtotal
FROM [Order Details]
GROUP BY [Order Details].OrderID;

INSERT INTO [Categories] VALUES (1, 'Beverages', 'Soft drinks, coffees, teas, beers, and ales', X'151C2F00020000000D000E0014002100FFFFFFFF');
INSERT INTO [Categories] VALUES (2, 'Condiments', 'Sweet and savory sauces, relishes, spreads, and seasonings', X'151C2F00020000000D000E0014002100FFFFFFFF');

INSERT INTO [CustomerDemographics] VALUES ('GOLD', 'Frequent buyer');

INSERT INTO [Customers] VALUES ('ALFKI', 'Alfreds Futterkiste', 'Maria Anders', 'Sales Representative', 'Obere Str. 57', 'Berlin', 'Western Europe', '12209', 'Germany', '030-0074321', '030-0076545');
INSERT INTO [Customers] VALUES ('ANATR', 'Ana Trujillo Emparedados y helados', 'Ana Trujillo', 'Owner', 'Avda. de la Constitución 2222', 'México D.F.', 'Central America', '05021', 'Mexico', '(5) 555-4729', '(5) 555-3745');
INSERT INTO [Customers] VALUES ('ANTON', 'Antonio Moreno Taquería', 'Antonio Moreno', 'Owner', 'Mataderos  2312', 'México D.F.', 'Central America', '05023', 'Mexico', '(5) 555-3932', NULL);

INSERT INTO [CustomerCustomerDemo] VALUES ('ALFKI', 'GOLD');

INSERT INTO [Employees] VALUES (2, 'Fuller', 'Andrew', 'Vice President, Sales', 'Dr.', '1952-02-19', '1992-08-14', '908 W. Capital Way', 'Tacoma', 'North America', '98401', 'USA', '(206) 555-9482', '3457', X'00', 'Andrew received his BTS commercial in 1974.', NULL, 'http://accweb/emmployees/fuller.bmp');
INSERT INTO [Employees] VALUES (1, 'Davolio', 'Nancy', 'Sales Representative', 'Ms.', '1948-12-08', '1992-05-01', '507 - 20th Ave. E. Apt. 2A', 'Seattle', 'North America', '98122', 'USA', '(206) 555-9857', '5467', X'00', 'Education includes a BA in psychology.', 2, 'http://accweb/emmployees/davolio.bmp');

INSERT INTO [Shippers] VALUES (1, 'Speedy Express', '(503) 555-9831');
INSERT INTO [Shippers] VALUES (2, 'United Package', '(503) 555-3199');

INSERT INTO [Suppliers] VALUES (1, 'Exotic Liquids', 'Charlotte Cooper', 'Purchasing Manager', '49 Gilbert St.', 'London', 'British Isles', 'EC1 4SD', 'UK', '(171) 555-2222', NULL, NULL);
INSERT INTO [Suppliers] VALUES (2, 'New Orleans Cajun Delights', 'Shelley Burke', 'Order Administrator', 'P.O. Box 78934', 'New Orleans', 'North America', '70117', 'USA', '(100) 555-4822', NULL, '#CAJUN.HTM#');

INSERT INTO [Products] VALUES (1, 'Chai', 1, 1, '10 boxes x 20 bags', 18, 39, 0, 10, '0');
INSERT INTO [Products] VALUES (2, 'Chang', 1, 1, '24 - 12 oz bottles', 19, 17, 40, 25, '0');
INSERT INTO [Products] VALUES (3, 'Aniseed Syrup', 1, 2, '12 - 550 ml bottles', 10, 13, 70, 25, '0');
INSERT INTO [Products] VALUES (4, 'Chef Anton''s Cajun Seasoning', 2, 2, '48 - 6 oz jars', 22, 53, 0, 0, '0');

INSERT INTO [Orders] VALUES (10248, 'ALFKI', 1, '2016-07-04', '2016-08-01', '2016-07-16', 2, 16.75, 'Vins et alcools Chevalier', '59 rue de l''Abbaye', 'Reims', 'Western Europe', '51100', 'France');
INSERT INTO [Orders] VALUES (10249, 'ANATR', 2, '2016-07-05', '2016-08-16', '2016-07-10', 1, 22.25, 'Toms Spezialitäten', 'Luisenstr. 48', 'Münster', 'Western Europe', '44087', 'Germany');

INSERT INTO [Order Details] VALUES (10248, 1, 14, 12, 0);
INSERT INTO [Order Details] VALUES (10248, 2, 9.8, 10, 0);
INSERT INTO [Order Details] VALUES (10248, 3, 34.8, 5, 0);
INSERT INTO [Order Details] VALUES (10249, 1, 18.6, 9, 0);
INSERT INTO [Order Details] VALUES (10249, 4, 42.4, 40, 0);

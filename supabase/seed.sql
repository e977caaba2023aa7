-- Reference rows loaded once into a fresh database (plans etc. arrive with the data model).
select 1;

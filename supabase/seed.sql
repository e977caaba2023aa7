-- Reference rows: the plans (prices in paise, INR). Safe to re-run: existing plans are updated.
insert into public.plans (id, name, description, price_paise, credits, seats, contact_sales, sort_order)
values
  ('lite', 'Lite', '100 credits', 49900, 100, 0, false, 1),
  ('pro', 'Pro', '400 credits and one extra seat', 149900, 400, 1, false, 2),
  ('enterprise', 'Enterprise', 'Custom credits and seats: contact us', null, 0, 0, true, 3)
on conflict (id) do update
  set name = excluded.name, description = excluded.description,
      price_paise = excluded.price_paise, credits = excluded.credits, seats = excluded.seats,
      contact_sales = excluded.contact_sales, sort_order = excluded.sort_order;

-- Reference rows: the plans (Razorpay's price in paise, INR, on the plan row), their limits (-1 =
-- unlimited), token packs, and the prices per provider, currency and interval (minor units). Safe
-- to re-run: existing rows are updated.
insert into public.plans
  (id, name, description, price_paise, credits, seats, contact_sales, sort_order, limits)
values
  ('lite', 'Lite', '100 credits', 49900, 100, 0, false, 1,
   '{"seats": 2, "workbenches": 50, "stored_bytes": 5368709120, "files_per_workbench": 1000,
     "chat_answers_month": 5000, "reports_month": 200}'),
  ('pro', 'Pro', '400 credits and one extra seat', 149900, 400, 1, false, 2,
   '{"seats": 10, "workbenches": 200, "stored_bytes": 53687091200, "files_per_workbench": 5000,
     "chat_answers_month": -1, "reports_month": -1}'),
  ('enterprise', 'Enterprise', 'Custom credits and seats: contact us', null, 0, 0, true, 3,
   '{"seats": -1, "workbenches": -1, "stored_bytes": -1, "files_per_workbench": -1,
     "chat_answers_month": -1, "reports_month": -1}')
on conflict (id) do update
  set name = excluded.name, description = excluded.description,
      price_paise = excluded.price_paise, credits = excluded.credits, seats = excluded.seats,
      contact_sales = excluded.contact_sales, sort_order = excluded.sort_order,
      limits = excluded.limits;

insert into public.token_packs (id, name, credits, sort_order)
values ('pack-100', '100 credits', 100, 1), ('pack-500', '500 credits', 500, 2)
on conflict (id) do update
  set name = excluded.name, credits = excluded.credits, sort_order = excluded.sort_order;

insert into public.prices (id, plan_id, pack_id, provider, currency, billing_interval, amount_minor)
values
  ('lite-razorpay-inr-month', 'lite', null, 'razorpay', 'INR', 'month', 49900),
  ('pro-razorpay-inr-month', 'pro', null, 'razorpay', 'INR', 'month', 149900),
  ('lite-stripe-usd-month', 'lite', null, 'stripe', 'USD', 'month', 900),
  ('lite-stripe-usd-year', 'lite', null, 'stripe', 'USD', 'year', 9000),
  ('pro-stripe-usd-month', 'pro', null, 'stripe', 'USD', 'month', 2900),
  ('pro-stripe-usd-year', 'pro', null, 'stripe', 'USD', 'year', 29000),
  ('lite-stripe-inr-month', 'lite', null, 'stripe', 'INR', 'month', 49900),
  ('pro-stripe-inr-month', 'pro', null, 'stripe', 'INR', 'month', 149900),
  ('pack-100-stripe-usd', null, 'pack-100', 'stripe', 'USD', 'once', 1000),
  ('pack-500-stripe-usd', null, 'pack-500', 'stripe', 'USD', 'once', 4500),
  ('pack-100-stripe-inr', null, 'pack-100', 'stripe', 'INR', 'once', 79900)
on conflict (id) do update
  set amount_minor = excluded.amount_minor, currency = excluded.currency,
      billing_interval = excluded.billing_interval;

"""Choosing among several applications by bid (入札): lowest price, or a weighted score.

The weighted score adds, per application, points for price (cheapest gets full points),
lead time (fastest gets full points), track record (most awards in the past year gets full
points) and fairness (fewest recent awards gets full points, so work rotates among the lead
companies). The network sets the weights; the breakdown is kept on the award and shown.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Offer:
    application_id: int
    company_id: int
    company_name: str
    price_yen: int
    lead_time_days: int
    awards_past_year: int
    submitted_order: int  # tie-break: the earlier application wins


@dataclass(frozen=True)
class Weights:
    price: int
    lead_time: int
    track_record: int
    fairness: int


def rank_offers(offers: list[Offer], *, rule: str, weights: Weights) -> list[dict]:
    """The offers best first, each with its score terms. `rule` is 'lowest_price' or
    'weighted'. Scores are in points, rounded to 2 decimals for display only; ranking uses the
    exact values."""
    if not offers:
        return []
    min_price = min(o.price_yen for o in offers)
    min_days = min(o.lead_time_days for o in offers)
    max_awards = max(o.awards_past_year for o in offers)
    rows = []
    for o in offers:
        if rule == "lowest_price":
            terms = {"price": 100.0 * min_price / o.price_yen}
            total = -o.price_yen  # strictly by price
        else:
            record = o.awards_past_year / max_awards if max_awards else 0.0
            terms = {
                "price": weights.price * min_price / o.price_yen,
                "lead_time": weights.lead_time * min_days / o.lead_time_days,
                "track_record": weights.track_record * record,
                "fairness": weights.fairness * (1.0 - record),
            }
            total = sum(terms.values())
        rows.append((total, -o.submitted_order, o, terms))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    ranked = []
    for rank, (_total, _order, offer, terms) in enumerate(rows, start=1):
        ranked.append(
            {
                "rank": rank,
                **asdict(offer),
                "terms": {k: round(v, 2) for k, v in terms.items()},
                "total": round(sum(terms.values()), 2),
            }
        )
    return ranked

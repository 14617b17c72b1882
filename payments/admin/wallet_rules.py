"""The wallet page's alert and automatic top-up actions (issue 14 item 5): set or clear
the low-balance threshold (and its email), set or clear the automatic top-up rule.
Each goes through its service (``wallets.services``); the forms only parse."""

from django import forms

from ledger.admin_actions import ObjectAction
from ledger.forms import AmountField
from ledger.money import format_money
from wallets import services as wallets
from wallets.models import AutoTopUp, AutoTopUpTrigger, Wallet

PERMISSION = "wallets.top_up_wallet"


def rule_words(rule: AutoTopUp | None) -> str:
    if rule is None:
        return "none"
    when = (
        f"monthly on day {rule.day_of_month}"
        if rule.trigger == AutoTopUpTrigger.MONTHLY
        else "when available falls below the threshold"
    )
    how = (
        f"{format_money(rule.amount)}"
        if rule.amount is not None
        else f"up to {format_money(rule.target)}"
    )
    return f"{how}, {when}" + ("" if rule.enabled else " (disabled)")


def rule_figures(w: Wallet) -> list[tuple[str, object]]:
    from .wallets import wallet_figures

    threshold = w.low_balance_threshold
    alert = "none" if threshold is None else format_money(threshold)
    if threshold is not None and w.low_balance_email:
        alert += f", emailed to {w.account.email}"
    return [
        *wallet_figures(w),
        ("Low-balance alert", alert),
        ("Automatic top-up", rule_words(AutoTopUp.objects.filter(wallet=w).first())),
    ]


class AlertForm(forms.Form):
    threshold = AmountField(
        required=False, help_text="Alert when available falls below this; empty: no alert."
    )
    email = forms.BooleanField(required=False, label="Also email the account")


class AutoTopUpForm(forms.Form):
    trigger = forms.ChoiceField(choices=AutoTopUpTrigger.choices)
    day_of_month = forms.IntegerField(
        required=False, min_value=1, max_value=28, help_text="Monthly: 1 to 28."
    )
    amount = AmountField(required=False, help_text="A fixed amount each time…")
    target = AmountField(required=False, help_text="…or top up to this available balance.")
    enabled = forms.BooleanField(required=False, initial=True)


def _set_rule(w, a, d):
    return wallets.set_auto_top_up(
        wallet=w.pk,
        trigger=d["trigger"],
        amount=str(d["amount"]) if d.get("amount") is not None else None,
        target=str(d["target"]) if d.get("target") is not None else None,
        day_of_month=d.get("day_of_month"),
        enabled=bool(d.get("enabled")),
        actor=a,
    )


def _action(label, run, done, *, form=None, offered=None, help=""):
    return ObjectAction(
        label=label,
        permission=PERMISSION,
        run=run,
        done=done,
        form=form,
        offered=offered or (lambda w, user: w.is_active),
        context=rule_figures,
        help=help,
    )


RULE_ACTIONS = {
    "low_balance_alert": _action(
        "Low-balance alert",
        lambda w, a, d: wallets.set_low_balance_alert(
            wallet=w.pk,
            threshold=str(d["threshold"]) if d.get("threshold") is not None else None,
            email=bool(d.get("email")),
            actor=a,
        ),
        lambda w, result: (
            f"Low-balance alert of wallet '{w.name}' set at "
            f"{format_money(result.low_balance_threshold)}."
            if result.low_balance_threshold is not None
            else f"Low-balance alert of wallet '{w.name}' cleared."
        ),
        form=AlertForm,
        help="A wallet.low_balance event (and, if asked, an email to the account) once each "
        "time available falls below the threshold.",
    ),
    "auto_top_up": _action(
        "Automatic top-up",
        _set_rule,
        lambda w, rule: f"Automatic top-up of wallet '{w.name}': {rule_words(rule)}.",
        form=AutoTopUpForm,
        help="Opens a top-up payment: collected by direct debit under the account's mandate, "
        "else waiting for the member, who is emailed.",
    ),
    "clear_auto_top_up": _action(
        "Clear automatic top-up",
        lambda w, a, d: wallets.clear_auto_top_up(wallet=w.pk, actor=a),
        "Automatic top-up of wallet '{name}' cleared.",
        offered=lambda w, user: AutoTopUp.objects.filter(wallet=w).exists(),
    ),
}

"""A member account's monthly cost budget, made in the management account and filtered on that account.

The management account sees every member account's cost (consolidated billing), so one place holds every
budget and no member account can change its own. The ``LinkedAccount`` cost filter limits a budget to one
account (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html, CostFilters).
Each notification alerts on ACTUAL or FORECASTED cost above a percentage of the limit; AWS allows 10
notifications per budget and, per notification, 10 e-mail subscribers and 1 SNS topic
(https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-limits.html); the settings refuse more
(docustack.settings._budget_errors). An SNS topic must let ``budgets.amazonaws.com`` publish to it
(https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

BUDGET_TYPE = "COST"
TIME_UNIT = "MONTHLY"
LIMIT_UNIT = "USD"
COMPARISON = "GREATER_THAN"
THRESHOLD_TYPE = "PERCENTAGE"


@dataclass(frozen=True)
class BudgetAlert:
    notification_type: str  # ACTUAL or FORECASTED
    threshold_percent: float
    emails: tuple[str, ...] = ()
    sns_topic_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountBudgetSpec:
    """One member account's budget."""

    account_name: str
    budget_name: str
    account_id: pulumi.Input[str]
    monthly_limit_usd: float
    alerts: Sequence[BudgetAlert]


@dataclass(frozen=True)
class AccountBudgetsArgs:
    budgets: Sequence[AccountBudgetSpec]


def limit_amount(monthly_limit_usd: float) -> str:
    """The limit as Budgets reads it back: a decimal string with its cents."""
    return f"{monthly_limit_usd:.2f}"


class AccountBudgets(pulumi.ComponentResource):
    """One COST budget per member account, monthly, each filtered on its linked account; pass the management
    account's provider. One component for all of them: a budget is a single resource, and an organization of
    hundreds of accounts plans faster without a component around each (README, "Scale")."""

    budget_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AccountBudgetsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:cost:AccountBudgets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.budget_names = {}
        for spec in args.budgets:
            budget = aws.budgets.Budget(
                f"{name}-{spec.account_name}",
                name=spec.budget_name,
                budget_type=BUDGET_TYPE,
                time_unit=TIME_UNIT,
                limit_amount=limit_amount(spec.monthly_limit_usd),
                limit_unit=LIMIT_UNIT,
                cost_filters=[aws.budgets.BudgetCostFilterArgs(name="LinkedAccount", values=[spec.account_id])],
                notifications=[
                    aws.budgets.BudgetNotificationArgs(
                        comparison_operator=COMPARISON,
                        notification_type=alert.notification_type,
                        threshold=alert.threshold_percent,
                        threshold_type=THRESHOLD_TYPE,
                        subscriber_email_addresses=list(alert.emails) or None,
                        subscriber_sns_topic_arns=list(alert.sns_topic_arns) or None,
                    )
                    for alert in spec.alerts
                ],
                opts=child,
            )
            self.budget_names[spec.account_name] = budget.name
        self.register_outputs({"budget_names": self.budget_names})

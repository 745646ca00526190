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
class AccountBudgetArgs:
    budget_name: str
    account_id: pulumi.Input[str]
    monthly_limit_usd: float
    alerts: Sequence[BudgetAlert]


def limit_amount(monthly_limit_usd: float) -> str:
    """The limit as Budgets reads it back: a decimal string with its cents."""
    return f"{monthly_limit_usd:.2f}"


class AccountBudget(pulumi.ComponentResource):
    """One COST budget, monthly, filtered on one linked account; pass the management account's provider."""

    budget_name: pulumi.Output[str]

    def __init__(self, name: str, args: AccountBudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:cost:AccountBudget", name, None, opts)
        budget = aws.budgets.Budget(
            f"{name}-budget",
            name=args.budget_name,
            budget_type=BUDGET_TYPE,
            time_unit=TIME_UNIT,
            limit_amount=limit_amount(args.monthly_limit_usd),
            limit_unit=LIMIT_UNIT,
            cost_filters=[aws.budgets.BudgetCostFilterArgs(name="LinkedAccount", values=[args.account_id])],
            notifications=[
                aws.budgets.BudgetNotificationArgs(
                    comparison_operator=COMPARISON,
                    notification_type=alert.notification_type,
                    threshold=alert.threshold_percent,
                    threshold_type=THRESHOLD_TYPE,
                    subscriber_email_addresses=list(alert.emails) or None,
                    subscriber_sns_topic_arns=list(alert.sns_topic_arns) or None,
                )
                for alert in args.alerts
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.budget_name = budget.name
        self.register_outputs({"budget_name": self.budget_name})

"""The quality stack: from a campaign's judgments to the dashboard's and the API's numbers.

Pure modules (numpy/scipy, no Django): ``codes`` (outcome and strength codes), ``agreement`` (alpha, kappa,
intervals), ``arrays`` (the compact judgment arrays), ``metrics`` (the campaign's figures), ``reviewers`` (the
reviewer table, reviewer × reviewer kappa), ``judges`` (AI judges against the human majority).
Django modules: ``load`` (judgments → arrays), ``store`` (the cached report; the refresh task's body), ``refresh``
(which report a view gets, enqueueing a refresh), ``report`` (the typed report, built by ``quality_report``),
``shaping`` (the report shaped for the dashboard pages and CSVs), ``drilldown`` (flags, recent judgments, one pair).

This file stays empty of imports: importing a pure module must not pull in Django.
"""

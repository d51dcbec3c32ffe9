"""The quality stack: from a campaign's judgments to the dashboard's and the API's numbers.

Pure modules (numpy/scipy, no Django): ``codes`` (outcome and strength codes), ``agreement`` (alpha, kappa,
intervals), ``arrays`` (the compact judgment arrays), ``metrics`` (the campaign's figures), ``reviewers`` (the
reviewer table, reviewer × reviewer kappa), ``judges`` (AI judges against the human majority).
Django modules: ``load`` (judgments → arrays), ``store`` (the cached report and its refresh), ``refresh`` (enqueueing
a refresh), ``drilldown`` (reads for the drill-down pages).

This file stays empty of imports: importing a pure module must not pull in Django.
"""

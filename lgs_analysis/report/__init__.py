"""Report: run a template for a period and publish it.

``params`` checks the parameters, ``data`` collects every analysis once,
``sections`` and ``charts`` display them in the notebook, ``render`` turns the executed
notebook into HTML and PDF, ``publish`` writes versions atomically, ``index`` lists
them, and ``build`` ties it together behind ``make report``.
"""

// Runs table: the column picker writes the `cols` field of the view form (the view lives in the URL).
(function () {
  "use strict";
  var form = document.getElementById("view");
  var text = document.getElementById("cols-text");
  var hidden = document.getElementById("cols");
  function specs() { return text.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean); }
  document.querySelectorAll("input[data-col]").forEach(function (box) {
    box.addEventListener("change", function () {
      var list = specs(), col = box.getAttribute("data-col"), i = list.indexOf(col);
      if (box.checked && i < 0) list.push(col);
      if (!box.checked && i >= 0) list.splice(i, 1);
      text.value = list.join(",");
    });
  });
  document.getElementById("cols-apply").addEventListener("click", function () {
    hidden.value = specs().join(",");
    form.submit();
  });
  form.addEventListener("submit", function () { hidden.value = specs().join(","); });
})();

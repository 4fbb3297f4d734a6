// The console's only script (compiled into the api binary). Everything works without it; it adds a
// refresh while a run is in progress, the table filter and "select all".
(function () {
  var refresh = document.querySelector("[data-refresh-seconds]");
  if (refresh) {
    var seconds = parseInt(refresh.getAttribute("data-refresh-seconds"), 10) || 3;
    setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
  document.querySelectorAll("input[data-filter-table]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter-table"));
    if (!table) { return; }
    input.addEventListener("input", function () {
      var needle = input.value.toLowerCase();
      table.querySelectorAll("tbody tr").forEach(function (row) {
        row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) < 0;
      });
    });
  });
  document.querySelectorAll("input[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("input[name='" + box.getAttribute("data-select-all") + "']").forEach(function (b) {
        if (!b.closest("tr") || !b.closest("tr").hidden) { b.checked = box.checked; }
      });
    });
  });
})();

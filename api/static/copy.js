/* Progressive enhancement: a "copy" button for each ready-to-send message (the text stays
   selectable without JavaScript). Buttons carry data-copy (the textarea's id) and data-done. */
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var label = button.textContent;
  button.hidden = false;
  button.addEventListener("click", function () {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var done = function () {
      button.textContent = button.getAttribute("data-done");
      setTimeout(function () { button.textContent = label; }, 5000);
    };
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        if (document.execCommand("copy")) { done(); }
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
});

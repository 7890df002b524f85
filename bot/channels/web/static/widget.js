/*
 * Trợ lý dịch vụ công: the chat bubble. A portal page adds it with one tag:
 *
 *   <script src="https://BOT-HOST/static/widget.js" data-socket-url="https://BOT-HOST" defer></script>
 *
 * It loads the vendored rasa-webchat bundle from beside this file and connects to the assistant over
 * Rasa's socket.io channel. Optional attributes: data-title, data-subtitle, data-placeholder,
 * data-connecting (labels), data-storage ("local": the conversation survives reloads and new tabs;
 * "session": only reloads), data-init-payload (sent when a new conversation starts).
 */
(function () {
  "use strict";
  if (window.__troLyDichVuCong) return; // the tag was included twice
  window.__troLyDichVuCong = true;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var data = (script && script.dataset) || {};
  var base = script ? script.src.replace(/widget\.js(\?.*)?$/, "") : "/static/";
  var socketUrl = data.socketUrl || window.location.protocol + "//" + window.location.hostname + ":5005";

  function start() {
    window.WebChat.default(
      {
        socketUrl: socketUrl,
        socketPath: "/socket.io/",
        initPayload: data.initPayload || "/say_greeting",
        title: data.title || "Trợ lý dịch vụ công",
        subtitle: data.subtitle || "Hỏi về thủ tục hành chính, tra cứu hồ sơ",
        inputTextFieldHint: data.placeholder || "Nhập câu hỏi của bạn…",
        connectingText: data.connecting || "Đang kết nối…",
        // Stay visible while the network is down: socket.io reconnects by itself.
        hideWhenNotConnected: false,
        withRules: false,
        showCloseButton: true,
        showFullScreenButton: false,
        customMessageDelay: function () { return 150; },
        params: { storage: data.storage === "session" ? "session" : "local" }
      },
      null
    );
  }

  var bundle = document.createElement("script");
  bundle.src = base + "vendor/rasa-webchat/index.js";
  bundle.async = true;
  bundle.onload = start;
  bundle.onerror = function () {
    if (window.console) window.console.error("Trợ lý dịch vụ công: không tải được " + bundle.src);
  };
  (document.head || document.documentElement).appendChild(bundle);
})();
